"""Claiming due deliveries: one set-based UPDATE moves due ``pending`` rows to ``sending`` with a
lease, so concurrent workers get disjoint rows.

On PostgreSQL the due rows are locked with ``FOR UPDATE SKIP LOCKED``; on SQLite the same UPDATE
runs under ``BEGIN IMMEDIATE`` (one writer at a time). A worker that dies holding a lease leaves
``sending`` rows that ``actionwave.delivery.recovery`` settles once the lease expires.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, exists, or_, select, update
from sqlalchemy.orm import Session

from actionwave.core.models import Delivery, Wave
from actionwave.delivery.states import PENDING, SENDING, deliveries, move
from actionwave.platform.db import is_postgres


@dataclass(frozen=True)
class Claimed:
    """A delivery this worker holds the lease on."""

    id: int
    key: str
    recipient: str
    payload: dict[str, Any]
    attempts: int

    @property
    def office(self) -> str | None:
        """The recipient office whose per-office rate limit this delivery draws on, if any."""
        return self.payload.get("office")


def in_running_wave() -> ColumnElement[bool]:
    """The condition every claim of pending rows includes: not part of a wave, or part of a
    ``running`` one (``actionwave.waves.control`` pauses and cancels a wave by its status).

    In SQL: ``deliveries.wave_id IS NULL OR EXISTS (SELECT 1 FROM waves WHERE waves.id =
    deliveries.wave_id AND waves.status = 'running')``.
    """
    return or_(Delivery.wave_id.is_(None), exists().where(
        Wave.id == Delivery.wave_id, Wave.status == "running"))


def claim_due_deliveries(
    session: Session, channel: str, limit: int, worker_id: str, lease_seconds: float
) -> list[Claimed]:
    """Move up to ``limit`` due ``pending`` rows of ``channel`` to ``sending``, leased to
    ``worker_id``, and return them. One statement; concurrent callers get disjoint rows. Commits.
    """
    now = datetime.now(UTC)
    due = (
        select(deliveries.c.id)
        .where(deliveries.c.state == PENDING, deliveries.c.channel == channel,
               # A wave's rows go out only while it runs; paused ones wait, cancelled never leave.
               deliveries.c.next_attempt_at <= now, in_running_wave())
        .order_by(deliveries.c.next_attempt_at)
        .limit(limit)
    )
    if is_postgres(session):
        due = due.with_for_update(skip_locked=True)
    # A materialized CTE runs the locking SELECT once; as a plain IN subquery PostgreSQL may
    # run it again per row and claim more than ``limit``.
    due_ids = due.cte("due").prefix_with("MATERIALIZED")
    claim = (
        move(PENDING, SENDING, deliveries.c.id.in_(select(due_ids.c.id)),
             lease_owner=worker_id, lease_expires_at=now + timedelta(seconds=lease_seconds),
             attempts=deliveries.c.attempts + 1)
        .returning(deliveries.c.id, deliveries.c.idempotency_key, deliveries.c.recipient,
                   deliveries.c.payload, deliveries.c.attempts)
    )
    rows = session.execute(claim).all()
    session.commit()
    return sorted(
        (Claimed(r.id, r.idempotency_key, r.recipient or "", r.payload or {}, r.attempts)
         for r in rows),
        key=lambda claimed: claimed.id,
    )


def renew_leases(
    session: Session, ids: Sequence[int], worker_id: str, lease_seconds: float
) -> set[int]:
    """Extend this worker's lease on ``ids``; returns the ids it still holds. Commits."""
    if not ids:
        return set()
    stmt = (
        update(deliveries)
        .where(deliveries.c.id.in_(ids), deliveries.c.state == SENDING,
               deliveries.c.lease_owner == worker_id)
        .values(lease_expires_at=datetime.now(UTC) + timedelta(seconds=lease_seconds))
        .returning(deliveries.c.id)
    )
    held = set(session.scalars(stmt))
    session.commit()
    return held
