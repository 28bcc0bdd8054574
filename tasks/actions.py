"""Tasks fed by the outbox when supporters submit actions."""

from __future__ import annotations

import uuid

from celery import shared_task
from sqlalchemy.exc import OperationalError

from actionwave.resolution import resolve_action


@shared_task(name="actionwave.resolve_actions", bind=True, max_retries=None)
def resolve_actions(self, action_ids: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Resolve a batch of accepted actions. Idempotent: the outbox may deliver a batch twice."""
    services = self.app.services
    try:
        for action_id in action_ids:
            with services.session() as session:
                resolve_action(session, uuid.UUID(action_id))
    except OperationalError as exc:  # database unreachable: try the whole (idempotent) batch later
        raise self.retry(exc=exc, countdown=min(2 ** self.request.retries, 60)) from exc
