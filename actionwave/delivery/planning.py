"""Planning: an action's targets become delivery rows, one per target and channel, plus the
supporter's confirmation mail. Planning twice plans nothing new (unique idempotency keys).

Which channel reaches which target, and with what message, is decided by a ``TargetPlanner``
(``actionwave.delivery.targets`` renders letters and picks CWC, email or nothing per legislator);
the confirmation is built from that same plan and inserted with it in one transaction, so it says
what will actually happen. A batch of actions costs a handful of statements, not a few per action.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from actionwave.core.models import Action, Delivery, Supporter, Target
from actionwave.delivery.mailing import MAIL_CHANNEL, mail_payload
from actionwave.delivery.states import PENDING
from actionwave.mail.confirmation import build_confirmation
from actionwave.platform.config import Settings
from actionwave.platform.db import dialect_insert


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

    ``plan_batch`` for one action: idempotent, returns how many rows were new.
    """
    return plan_batch(session, settings, [(action_id, targets)], plan_targets)


def plan_batch(
    session: Session,
    settings: Settings,
    resolved: Sequence[tuple[uuid.UUID, Sequence[Target]]],
    plan_targets: TargetPlanner | None = None,
) -> int:
    """Create the deliveries of resolved actions (each with all its targets) and their
    confirmation mails, in one transaction; commits.

    Idempotent: rows are inserted with ``ON CONFLICT (idempotency_key) DO NOTHING``, so a
    redelivered task plans nothing twice. Returns how many rows were new. Unknown actions plan
    nothing; without ``plan_targets`` only confirmations are planned. Resolved actions move to
    ``delivering``.
    """
    ids = [action_id for action_id, _ in resolved]
    actions = {a.id: a for a in session.scalars(select(Action).where(Action.id.in_(ids)))}
    # Held here so the planner and the confirmation find them in the session's identity map
    # (which keeps objects only while something refers to them) instead of reading them again.
    _supporters = list(session.scalars(select(Supporter).where(
        Supporter.id.in_({a.supporter_id for a in actions.values()}))))
    rows: list[dict[str, Any]] = []
    now = datetime.now(UTC)
    for action_id, targets in resolved:
        action = actions.get(action_id)
        if action is None:
            continue
        planned = list(plan_targets(session, action, targets)) if plan_targets else []
        rows += [_row(action, item, delivery_key(action.id, item.purpose), now)
                 for item in planned]
        channels: dict[int, list[str]] = {}
        for item in planned:
            if item.target_id is not None:
                channels.setdefault(item.target_id, []).append(item.channel)
        mail = build_confirmation(session, settings, action_id, targets, channels)
        if mail is not None:
            confirmation = PlannedDelivery(
                channel=MAIL_CHANNEL, recipient=mail.to, purpose="confirmation",
                payload={"mail": mail_payload(
                    mail.subject, mail.text, html=mail.html, to_name=mail.to_name,
                    reply_to=mail.reply_to, headers=mail.headers, category=mail.category)},
            )
            rows.append(_row(action, confirmation, mail.key, now))
    created = _insert(session, rows)
    if actions:
        session.execute(update(Action).where(Action.id.in_(list(actions)),
                                             Action.status == "resolved")
                        .values(status="delivering", updated_at=now))
    session.commit()
    return created


def _row(action: Action, item: PlannedDelivery, key: str, now: datetime) -> dict[str, Any]:
    return {
        "action_id": action.id, "supporter_id": action.supporter_id,
        "campaign_id": action.campaign_id, "target_id": item.target_id,
        "channel": item.channel, "recipient": item.recipient,
        "state": PENDING, "attempts": 0, "next_attempt_at": now, "payload": item.payload,
        "idempotency_key": key, "created_at": now, "updated_at": now,
    }


def _insert(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    if not rows:
        return 0
    table = Delivery.__table__
    stmt = (dialect_insert(session, table)
            .on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(table.c.id))
    # One statement text for any number of rows (executemany with RETURNING): cached once.
    return len(session.execute(stmt, list(rows)).all())
