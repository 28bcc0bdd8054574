"""Turning an accepted action into targets and planned deliveries."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from actionwave.models import Action


def resolve_action(session: Session, action_id: uuid.UUID) -> str | None:
    """Resolve one accepted action; idempotent (an action already past ``accepted`` is left).

    Returns the action's new status, or None when there was nothing to do.
    """
    now = datetime.now(UTC)
    result = session.execute(
        update(Action)
        .where(Action.id == action_id, Action.status == "accepted")
        .values(status="resolved", resolved_at=now, updated_at=now)
    )
    session.commit()
    return "resolved" if result.rowcount else None
