"""Tasks fed by the outbox when supporters submit actions."""

from __future__ import annotations

import uuid

from celery import shared_task
from sqlalchemy.exc import OperationalError

from actionwave.delivery.mailing import MAIL_CHANNEL
from actionwave.delivery.planning import plan_deliveries
from actionwave.legislators.index import NoSnapshot
from actionwave.resolution import resolve_action
from tasks.delivery import deliver_due


@shared_task(name="actionwave.resolve_actions", bind=True, max_retries=None)
def resolve_actions(self, action_ids: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Resolve a batch of accepted actions and plan their deliveries, then start delivering.

    Idempotent: the outbox may deliver a batch twice; resolution and planning skip what is done.
    """
    services = self.app.services
    try:
        for action_id in action_ids:
            with services.session() as session:
                targets = resolve_action(session, uuid.UUID(action_id), services.geocoder)
                plan_deliveries(session, services.settings, uuid.UUID(action_id), targets)
    except (OperationalError, NoSnapshot) as exc:
        # Database unreachable, or no legislator data synced yet: the batch is idempotent, so
        # try it again later; the actions stay ``accepted`` (and the relay's sweep re-queues them).
        raise self.retry(exc=exc, countdown=min(2 ** self.request.retries, 60)) from exc
    deliver_due.delay(MAIL_CHANNEL)
