"""SendGrid Event Webhook events: stored once each; bounces, drops and complaints suppress.

Signature checking happens at the door (``web/webhooks.py``); this module trusts its input's
origin but not its shape: events without an ``sg_event_id`` or an email are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from actionwave.core.models import Supporter
from actionwave.mail.models import MailEvent
from actionwave.mail.sendgrid_mailer import KEY_ARG
from actionwave.platform.db import dialect_insert

SUPPRESSING = frozenset({"bounce", "dropped", "spamreport"})


@dataclass(frozen=True)
class EventSummary:
    stored: int
    repeated: int
    skipped: int
    suppressed: int


def record_mail_events(session: Session, events: Iterable[Mapping[str, Any]]) -> EventSummary:
    """Store each new event once (by ``sg_event_id``), suppress addresses that bounced, were
    dropped or reported spam, and commit. Idempotent: a replayed event changes nothing.
    """
    stored = repeated = skipped = suppressed = 0
    for event in events:
        event_id, email, kind = event.get("sg_event_id"), event.get("email"), event.get("event")
        if not (isinstance(event_id, str) and isinstance(email, str) and isinstance(kind, str)):
            skipped += 1
            continue
        inserted = session.execute(
            dialect_insert(session, MailEvent.__table__).values(
                sg_event_id=event_id[:100], event=kind[:30], email=email.strip()[:254],
                key=_text(event.get(KEY_ARG), 100), occurred_at=_when(event.get("timestamp")),
                reason=_text(event.get("reason") or event.get("response"), 500),
                received_at=datetime.now(UTC),
            ).on_conflict_do_nothing(index_elements=["sg_event_id"]).returning(MailEvent.id)
        ).scalar()
        if inserted is None:
            repeated += 1
            continue
        stored += 1
        if kind in SUPPRESSING and not _soft_bounce(event):
            suppressed += suppress_address(session, email, kind)
    session.commit()
    return EventSummary(stored, repeated, skipped, suppressed)


def suppress_address(session: Session, email: str, reason: str) -> int:
    """Mark the supporter with this address as never to be mailed; no commit. Returns rows."""
    local, _, domain = email.strip().rpartition("@")
    return session.execute(
        update(Supporter)
        .where(Supporter.email == f"{local}@{domain.lower()}",
               Supporter.suppressed_reason.is_(None))
        .values(suppressed_reason=reason, updated_at=datetime.now(UTC))
    ).rowcount


def event_counts(session: Session, key: str | None = None) -> dict[str, int]:
    """How many of each event were recorded (all mail, or one idempotency key)."""
    query = select(MailEvent.event, func.count()).group_by(MailEvent.event)
    if key is not None:
        query = query.where(MailEvent.key == key)
    return {event: count for event, count in session.execute(query).all()}


def _soft_bounce(event: Mapping[str, Any]) -> bool:
    # A "blocked" bounce is temporary (the receiver refused for now); the address is fine.
    return event.get("event") == "bounce" and event.get("type") == "blocked"


def _text(value: Any, limit: int) -> str | None:
    return str(value)[:limit] if value not in (None, "") else None


def _when(value: Any) -> datetime | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    return None
