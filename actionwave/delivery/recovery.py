"""Deliveries that went wrong: in-doubt sends settled with the provider, dead ones retried.

A ``sending`` row whose lease expired belonged to a worker that died or hung, and its request may
have left before the crash. It is *in doubt*: we ask the provider whether it accepted a mail with
the row's idempotency key before anything is sent again. ACCEPTED -> ``sent``; NOT_FOUND -> back
to ``pending``; UNKNOWN -> asked again later, never resent blindly. Each case is counted.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from actionwave.core.channels import ProviderError, SendOutcome
from actionwave.core.counters import bump_counters, read_counters
from actionwave.core.models import Action, Delivery, Target, Wave
from actionwave.delivery.engine import Sender
from actionwave.delivery.policy import DeliveryPolicy
from actionwave.delivery.states import (
    DEAD,
    IN_DOUBT_OWNER,
    PENDING,
    SENDING,
    SENT,
    deliveries,
    move,
)
from actionwave.platform.db import is_postgres

IN_DOUBT_NOTE = "in doubt: the provider could not yet say whether it was sent"
COUNTERS = ("in_doubt", "in_doubt_sent", "in_doubt_resent", "in_doubt_unknown")


@dataclass(frozen=True)
class Reconciled:
    found: int = 0
    accepted: int = 0
    not_found: int = 0
    unknown: int = 0


def expire_leases(
    session: Session, senders: Mapping[str, Sender], policy: DeliveryPolicy, limit: int = 500
) -> Reconciled:
    """Settle up to ``limit`` in-doubt deliveries of the channels in ``senders`` by asking each
    provider (``lookup``) about their idempotency keys. Several sweepers may run at once: each
    takes its own rows. Commits; may block on provider lookups.
    """
    now = datetime.now(UTC)
    me = f"{IN_DOUBT_OWNER}{uuid.uuid4().hex[:12]}"
    expired = (
        select(deliveries.c.id, deliveries.c.idempotency_key, deliveries.c.channel,
               deliveries.c.lease_owner)
        .where(deliveries.c.state == SENDING, deliveries.c.channel.in_(list(senders)),
               deliveries.c.lease_expires_at < now - timedelta(seconds=policy.lookup_grace_seconds))
        .order_by(deliveries.c.lease_expires_at)
        .limit(limit)
    )
    if is_postgres(session):
        expired = expired.with_for_update(skip_locked=True)
    rows = session.execute(expired).all()
    if not rows:
        session.rollback()
        return Reconciled()
    session.execute(
        update(deliveries)
        .where(deliveries.c.id.in_([r.id for r in rows]))
        .values(lease_owner=me, lease_expires_at=now + timedelta(seconds=policy.lease_seconds))
    )
    session.commit()
    settled: dict[SendOutcome, list[int]] = {outcome: [] for outcome in SendOutcome}
    for row in rows:
        try:
            outcome = senders[row.channel].lookup(row.idempotency_key)
        except ProviderError:
            outcome = SendOutcome.UNKNOWN
        settled[outcome].append(row.id)
    return _record(session, me, rows, settled)


def _record(
    session: Session, me: str, rows: Sequence, settled: dict[SendOutcome, list[int]]  # type: ignore[type-arg]
) -> Reconciled:
    now = datetime.now(UTC)
    mine = deliveries.c.lease_owner == me
    accepted, not_found = settled[SendOutcome.ACCEPTED], settled[SendOutcome.NOT_FOUND]
    unknown = settled[SendOutcome.UNKNOWN]
    if accepted:
        session.execute(move(SENDING, SENT, mine, deliveries.c.id.in_(accepted), sent_at=now,
                             last_error=None))
    if not_found:
        session.execute(move(SENDING, PENDING, mine, deliveries.c.id.in_(not_found),
                             next_attempt_at=now))
    if unknown:  # keep the row in doubt; the lease clock restarts the grace before asking again
        session.execute(update(deliveries).where(mine, deliveries.c.id.in_(unknown))
                        .values(lease_expires_at=now, last_error=IN_DOUBT_NOTE))
    first_time = sum(1 for r in rows if not (r.lease_owner or "").startswith(IN_DOUBT_OWNER))
    settled_sent = set(accepted)
    sent_by_channel = Counter(r.channel for r in rows if r.id in settled_sent)
    bump_counters(session, {
        "in_doubt": first_time, "in_doubt_sent": len(accepted),
        "in_doubt_resent": len(not_found), "in_doubt_unknown": len(unknown),
        **{f"deliveries_sent:{channel}": n for channel, n in sent_by_channel.items()},
    })
    session.commit()
    return Reconciled(len(rows), len(accepted), len(not_found), len(unknown))


def in_doubt_report(session: Session) -> dict[str, int]:
    """How many sends were found in doubt, and how each was settled: ``in_doubt`` cases;
    ``in_doubt_sent`` (provider had it), ``in_doubt_resent`` (provider never saw it, sent again),
    ``in_doubt_unknown`` (lookups that could not tell); ``still_in_doubt`` now."""
    report = dict.fromkeys(COUNTERS, 0)
    report.update({name: n for name, n in read_counters(session).items() if name in report})
    report["still_in_doubt"] = session.scalar(
        select(func.count()).select_from(deliveries).where(
            deliveries.c.state == SENDING, deliveries.c.lease_owner.startswith(IN_DOUBT_OWNER))
    ) or 0
    return report


def due_channels(session: Session) -> dict[str, int]:
    """How many deliveries are due now, per channel (for the sweep that kicks workers)."""
    rows = session.execute(
        select(deliveries.c.channel, func.count())
        .where(deliveries.c.state == PENDING, deliveries.c.next_attempt_at <= datetime.now(UTC))
        .group_by(deliveries.c.channel)
    ).all()
    return {channel: count for channel, count in rows}


@dataclass(frozen=True)
class DeliveryQuery:
    """Which deliveries an operator asks for; None means any. ``since`` and ``until`` bound
    when each last changed state (``updated_at``)."""

    state: str | None = None
    channel: str | None = None
    campaign_id: int | None = None
    bioguide_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def find_deliveries(session: Session, wanted: DeliveryQuery, limit: int = 100) -> list[Delivery]:
    """Deliveries matching ``wanted``, most recently changed first. A campaign's are its
    supporters' letters and its waves' mails; a legislator's are the letters to their office.
    Reads only."""
    query = select(Delivery)
    if wanted.state:
        query = query.where(Delivery.state == wanted.state)
    if wanted.channel:
        query = query.where(Delivery.channel == wanted.channel)
    if wanted.campaign_id is not None:
        query = query.where(or_(
            Delivery.action_id.in_(select(Action.id).where(
                Action.campaign_id == wanted.campaign_id)),
            Delivery.wave_id.in_(select(Wave.id).where(Wave.campaign_id == wanted.campaign_id))))
    if wanted.bioguide_id:
        query = query.where(Delivery.target_id.in_(select(Target.id).where(
            Target.bioguide_id == wanted.bioguide_id.upper())))
    if wanted.since:
        query = query.where(Delivery.updated_at >= wanted.since)
    if wanted.until:
        query = query.where(Delivery.updated_at < wanted.until)
    return list(session.scalars(query.order_by(Delivery.updated_at.desc(), Delivery.id.desc())
                                .limit(limit)))


def retry_dead(session: Session, delivery_ids: Sequence[int]) -> int:
    """An organizer's retry: the given ``dead`` deliveries go back to ``pending`` with fresh
    attempts, due now. Other ids are ignored. Returns how many moved. Idempotent. Commits."""
    if not delivery_ids:
        return 0
    return _retry(session, deliveries.c.id.in_(list(delivery_ids)))


def retry_all_dead(session: Session, channel: str | None = None) -> int:
    """``retry_dead`` for every dead delivery (of ``channel``, if given). Commits."""
    return _retry(session, *([deliveries.c.channel == channel] if channel else []))


def _retry(session: Session, *where: ColumnElement[bool]) -> int:
    result = session.execute(move(DEAD, PENDING, *where, attempts=0,
                                  next_attempt_at=datetime.now(UTC), last_error=None))
    session.commit()
    return result.rowcount
