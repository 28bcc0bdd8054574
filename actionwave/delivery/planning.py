"""Planning: an action's targets become delivery rows, one per target and channel, plus the
supporter's confirmation mail. Planning twice plans nothing new (unique idempotency keys).

Which channel reaches which target, and with what message, is decided by a ``TargetPlanner``
(the messages area renders letters and picks CWC, email or a compose link per legislator); the
confirmation is built last, from the rows just planned, so it says what will actually happen.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from actionwave.config import Settings
from actionwave.db import dialect_insert
from actionwave.delivery.mailing import MAIL_CHANNEL, mail_payload
from actionwave.delivery.states import PENDING
from actionwave.mail.confirmation import build_confirmation
from actionwave.models import Action, Delivery, Target


@dataclass(frozen=True)
class PlannedDelivery:
    """One message to send. ``purpose`` is unique within the action (``email:<bioguide id>``)
    and makes the idempotency key; ``payload`` is what the channel's sender needs (for mail,
    ``{"mail": mail_payload(...)}``; ``office`` names a recipient office for its rate limit)."""

    channel: str
    recipient: str
    purpose: str
    payload: dict[str, Any] = field(default_factory=dict)
    target_id: int | None = None


TargetPlanner = Callable[[Session, Action, Sequence[Target]], Sequence[PlannedDelivery]]
"""Chooses each target's channel and renders its message; pure reads, no writes."""


def delivery_key(action_id: uuid.UUID, purpose: str) -> str:
    return f"{purpose}:{action_id}"


def plan_deliveries(
    session: Session,
    settings: Settings,
    action_id: uuid.UUID,
    targets: Sequence[Target],
    plan_targets: TargetPlanner | None = None,
) -> int:
    """Create the deliveries of one resolved action and its confirmation mail; commits.

    Idempotent: rows are inserted with ``ON CONFLICT (idempotency_key) DO NOTHING``, so a
    redelivered task plans nothing twice. Returns how many rows were new. An unknown action plans
    nothing; without ``plan_targets`` only the confirmation is planned.
    """
    action = session.get(Action, action_id)
    if action is None:
        return 0
    planned = list(plan_targets(session, action, targets)) if plan_targets else []
    created = _insert(session, action, planned)
    session.flush()
    mail = build_confirmation(session, settings, action_id)
    if mail is not None:
        confirmation = PlannedDelivery(
            channel=MAIL_CHANNEL, recipient=mail.to, purpose="confirmation",
            payload={"mail": mail_payload(
                mail.subject, mail.text, html=mail.html, to_name=mail.to_name,
                reply_to=mail.reply_to, headers=mail.headers, category=mail.category)},
        )
        created += _insert(session, action, [confirmation], key=mail.key)
    now = datetime.now(UTC)
    session.execute(update(Action).where(Action.id == action_id, Action.status == "resolved")
                    .values(status="delivering", updated_at=now))
    session.commit()
    return created


def _insert(session: Session, action: Action, planned: Sequence[PlannedDelivery],
            key: str | None = None) -> int:
    if not planned:
        return 0
    now = datetime.now(UTC)
    rows = [{
        "action_id": action.id, "supporter_id": action.supporter_id,
        "target_id": item.target_id, "channel": item.channel, "recipient": item.recipient,
        "state": PENDING, "attempts": 0, "next_attempt_at": now, "payload": item.payload,
        "idempotency_key": key or delivery_key(action.id, item.purpose),
        "created_at": now, "updated_at": now,
    } for item in planned]
    stmt = dialect_insert(session, Delivery.__table__).values(rows)
    stmt = stmt.on_conflict_do_nothing(index_elements=["idempotency_key"])
    return len(session.execute(stmt.returning(Delivery.__table__.c.id)).all())
