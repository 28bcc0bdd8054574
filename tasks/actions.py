"""Tasks fed by the outbox when supporters submit actions."""

from __future__ import annotations

import uuid

from celery import shared_task
from sqlalchemy.exc import OperationalError

from actionwave.delivery.cwc_sending import CWC_CHANNEL
from actionwave.delivery.mailing import MAIL_CHANNEL
from actionwave.delivery.planning import plan_batch
from actionwave.delivery.targets import TargetPlanner
from actionwave.intake.resolution import decide, load_pending, store_decisions
from actionwave.legislators.index import NoSnapshot
from tasks.delivery import start_draining

# Actions resolved and planned per transaction on SQLite. The relay hands over a whole batch at
# once; as one transaction it held the database's only write lock while supporters' submissions
# waited for it (docs/performance.md). PostgreSQL, with no such lock, takes the batch at once.
CHUNK = 5


@shared_task(name="actionwave.resolve_actions", bind=True, max_retries=None)
def resolve_actions(self, action_ids: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Resolve a batch of accepted actions and plan their deliveries, then start delivering.

    Idempotent: the outbox may deliver a batch twice; resolution and planning skip what is done.
    """
    services = self.app.services
    plan_targets = TargetPlanner(services.settings)
    try:
        ids = [uuid.UUID(a) for a in action_ids]
        size = CHUNK if services.engine.dialect.name == "sqlite" else max(len(ids), 1)
        for chunk in (ids[start:start + size] for start in range(0, len(ids), size)):
            with services.session(reads_first=True) as session:  # reads: no lock on SQLite
                pending = load_pending(session, chunk, services.legislators.get(session))
            # The geocoder (Census, for an address in a split ZIP) is asked with no transaction
            # open; then the decisions and the deliveries are written in one.
            decisions = decide(pending, services.geocoder)
            with services.session() as session:
                resolved = store_decisions(session, pending, decisions)
                plan_batch(session, services.settings, resolved, plan_targets)
    except (OperationalError, NoSnapshot) as exc:
        # Database unreachable, or no legislator data synced yet: the batch is idempotent, so
        # try it again later; the actions stay ``accepted`` (and the relay's sweep re-queues them).
        raise self.retry(exc=exc, countdown=min(2 ** self.request.retries, 60)) from exc
    start_draining(services, MAIL_CHANNEL)
    if plan_targets.cwc_configured:
        start_draining(services, CWC_CHANNEL)
