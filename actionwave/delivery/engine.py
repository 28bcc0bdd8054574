"""Claim due deliveries, send them within the global rate limits, record what happened.

Rows are the truth. A worker claims a batch with one set-based UPDATE (``FOR UPDATE SKIP LOCKED``
on PostgreSQL; on SQLite the same UPDATE under ``BEGIN IMMEDIATE``), which moves the rows to
``sending`` with a lease. It sends, then records outcomes in batches with conditional UPDATEs that
only touch rows it still holds. A worker killed between send and record leaves ``sending`` rows
whose lease expires; ``actionwave.delivery.recovery`` settles those with the provider.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker

from actionwave.channels import Permanent, ProviderError, Retryable, SendOutcome
from actionwave.config import Settings
from actionwave.db import is_postgres
from actionwave.delivery.models import bump_counters
from actionwave.delivery.ratelimit import RateLimiter
from actionwave.delivery.states import (
    DEAD,
    FAILED,
    IN_DOUBT_OWNER,
    PENDING,
    SENDING,
    SENT,
    deliveries,
    move,
)
from actionwave.waves.control import engine_claim_filter

FLUSH_EVERY = 200
FLUSH_SECONDS = 0.5
LONGEST_SLEEP_SECONDS = 2.0  # longer waits for a token go back to the table with a due time


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
        return self.payload.get("office")


class Sender(Protocol):
    """One channel's way out: how claimed rows become requests, and how a request is sent."""

    provider: str

    def requests(self, claimed: Sequence[Claimed]) -> list[list[Claimed]]: ...

    def send(self, request: Sequence[Claimed]) -> str | None:
        """Raises ``Retryable`` or ``Permanent``; on return every delivery was accepted."""
        ...

    def lookup(self, key: str) -> SendOutcome: ...


@dataclass(frozen=True)
class DeliveryPolicy:
    batch_size: int = 500
    lease_seconds: float = 120.0
    max_attempts: int = 8
    backoff_seconds: float = 5.0
    backoff_max_seconds: float = 3600.0
    provider_per_minute: float = 600.0
    office_per_minute: float = 60.0
    lookup_grace_seconds: float = 60.0

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryPolicy:
        return cls(
            batch_size=settings.delivery_batch_size,
            lease_seconds=settings.delivery_lease_seconds,
            max_attempts=settings.delivery_max_attempts,
            backoff_seconds=settings.delivery_backoff_seconds,
            backoff_max_seconds=settings.delivery_backoff_max_seconds,
            provider_per_minute=settings.sendgrid_requests_per_minute,
            office_per_minute=settings.office_messages_per_minute,
            lookup_grace_seconds=settings.delivery_lookup_grace_seconds,
        )

    def claim_limit(self) -> int:
        """No more than the provider lets through in a quarter of a lease, so leases hold."""
        if self.provider_per_minute <= 0:
            return self.batch_size
        quarter_lease = int(self.provider_per_minute * self.lease_seconds / 240)
        return max(1, min(self.batch_size, quarter_lease))

    def retry_delay(self, attempts: int, after: float | None) -> float:
        """Exponential backoff with full jitter; never sooner than the provider asked."""
        ceiling = min(self.backoff_max_seconds, self.backoff_seconds * 2 ** max(0, attempts - 1))
        return max(after or 0.0, random.uniform(0, ceiling))


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
               deliveries.c.next_attempt_at <= now, engine_claim_filter())
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


@dataclass
class Outcomes:
    """What happened to claimed deliveries, waiting to be written in one transaction."""

    sent: list[tuple[int, str | None]] = field(default_factory=list)
    retry: list[tuple[Claimed, str, float | None]] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    postponed: list[tuple[int, float]] = field(default_factory=list)
    in_doubt: list[tuple[int, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return (len(self.sent) + len(self.retry) + len(self.failed) + len(self.postponed)
                + len(self.in_doubt))


@dataclass
class BatchResult:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    dead: int = 0
    postponed: int = 0
    in_doubt: int = 0
    not_held: int = 0  # outcomes not written: the lease had been taken away (see recovery)

    @property
    def more_due(self) -> bool:
        return self.claimed > 0 and self.postponed == 0


def record_outcomes(
    session: Session, outcomes: Outcomes, worker_id: str, policy: DeliveryPolicy
) -> BatchResult:
    """Write ``outcomes`` for rows this worker still holds, set-based, in one transaction.

    Retryable failures go back to ``pending`` with a backoff, or to ``dead`` when out of attempts;
    postponed rows go back without using up an attempt; rows whose request may have left
    (a timeout) are handed to the in-doubt sweep, which asks the provider before any resend.
    Commits.
    """
    now = datetime.now(UTC)
    mine = [deliveries.c.id == bindparam("b_id"), deliveries.c.lease_owner == worker_id]
    result = BatchResult()
    written = 0
    statements: list[tuple[Any, list[dict[str, Any]]]] = []
    if outcomes.sent:
        stmt = move(SENDING, SENT, *mine, sent_at=now, last_error=None,
                    provider_id=bindparam("b_provider"))
        statements.append((stmt, [{"b_id": i, "b_provider": p} for i, p in outcomes.sent]))
        result.sent = len(outcomes.sent)
    again = [(c, reason, after) for c, reason, after in outcomes.retry
             if c.attempts < policy.max_attempts]
    if again:
        stmt = move(SENDING, PENDING, *mine, last_error=bindparam("b_error"),
                    next_attempt_at=bindparam("b_due"))
        statements.append((stmt, [
            {"b_id": c.id, "b_error": reason,
             "b_due": now + timedelta(seconds=policy.retry_delay(c.attempts, after))}
            for c, reason, after in again
        ]))
        result.retried = len(again)
    out = [(c.id, reason) for c, reason, _ in outcomes.retry if c.attempts >= policy.max_attempts]
    for state, rows in ((DEAD, out), (FAILED, outcomes.failed)):
        if rows:
            stmt = move(SENDING, state, *mine, last_error=bindparam("b_error"))
            statements.append((stmt, [{"b_id": i, "b_error": reason} for i, reason in rows]))
    result.dead, result.failed = len(out), len(outcomes.failed)
    if outcomes.postponed:
        stmt = move(SENDING, PENDING, *mine, next_attempt_at=bindparam("b_due"),
                    attempts=deliveries.c.attempts - 1)
        statements.append((stmt, [
            {"b_id": i, "b_due": now + timedelta(seconds=delay)} for i, delay in outcomes.postponed
        ]))
        result.postponed = len(outcomes.postponed)
    if outcomes.in_doubt:
        stmt = (update(deliveries).where(deliveries.c.state == SENDING, *mine)
                .values(lease_owner=f"{IN_DOUBT_OWNER}{worker_id}", lease_expires_at=now,
                        last_error=bindparam("b_error")))
        statements.append((stmt, [{"b_id": i, "b_error": r} for i, r in outcomes.in_doubt]))
        result.in_doubt = len(outcomes.in_doubt)
        bump_counters(session, {"in_doubt": result.in_doubt})
    connection = session.connection()
    for stmt, params in statements:
        written += connection.execute(stmt, params).rowcount
    session.commit()
    result.not_held = len(outcomes) - written
    return result


def _merge(total: BatchResult, part: BatchResult) -> None:
    for name in ("sent", "retried", "failed", "dead", "postponed", "in_doubt", "not_held"):
        setattr(total, name, getattr(total, name) + getattr(part, name))


def deliver_due(
    session_factory: sessionmaker[Session],
    channel: str,
    sender: Sender,
    limiter: RateLimiter,
    policy: DeliveryPolicy,
    worker_id: str,
    sleep: Callable[[float], None] = time.sleep,
) -> BatchResult:
    """Claim one batch of due deliveries of ``channel``, send it, record it. Safe to run in many
    workers at once. May block up to a few seconds for rate-limit tokens; longer waits put the
    rest of the batch back with a due time. ``result.more_due`` says whether to run again.
    """
    with session_factory() as session:
        claimed = claim_due_deliveries(
            session, channel, policy.claim_limit(), worker_id, policy.lease_seconds
        )
        total = BatchResult(claimed=len(claimed))
        if not claimed:
            return total
        lease_until = time.monotonic() + policy.lease_seconds
        outcomes = Outcomes()
        last_flush = time.monotonic()
        requests = sender.requests(claimed)
        for index, request in enumerate(requests):
            if lease_until - time.monotonic() < policy.lease_seconds / 2:
                held = renew_leases(session, [c.id for r in requests[index:] for c in r],
                                    worker_id, policy.lease_seconds)
                lease_until = time.monotonic() + policy.lease_seconds
                request = [c for c in request if c.id in held]
            request = _within_office_limits(request, limiter, policy, outcomes)
            wait = _provider_token(sender.provider, limiter, policy, sleep) if request else 0.0
            if wait > 0:
                outcomes.postponed.extend(
                    (c.id, wait) for r in [request, *requests[index + 1:]] for c in r
                )
                break
            if request:
                _send(sender, request, limiter, outcomes)
            if len(outcomes) >= FLUSH_EVERY or time.monotonic() - last_flush > FLUSH_SECONDS:
                _merge(total, record_outcomes(session, outcomes, worker_id, policy))
                outcomes, last_flush = Outcomes(), time.monotonic()
        _merge(total, record_outcomes(session, outcomes, worker_id, policy))
        return total


def _within_office_limits(
    request: list[Claimed], limiter: RateLimiter, policy: DeliveryPolicy, outcomes: Outcomes
) -> list[Claimed]:
    allowed = []
    for claimed in request:
        office = claimed.office
        wait = limiter.take(f"office:{office}", policy.office_per_minute) if office else 0.0
        if wait > 0:
            outcomes.postponed.append((claimed.id, wait))
        else:
            allowed.append(claimed)
    return allowed


def _provider_token(
    provider: str, limiter: RateLimiter, policy: DeliveryPolicy, sleep: Callable[[float], None]
) -> float:
    """0 once a token is taken; else the (long) wait, with nothing taken."""
    while True:
        wait = limiter.take(provider, policy.provider_per_minute)
        if wait <= 0 or wait > LONGEST_SLEEP_SECONDS:
            return wait
        sleep(wait)


def _send(sender: Sender, request: list[Claimed], limiter: RateLimiter, outcomes: Outcomes) -> None:
    try:
        provider_id = sender.send(request)
    except ProviderError as exc:
        accepted = set(exc.accepted)
        outcomes.sent.extend((c.id, None) for c in request if c.key in accepted)
        rest = [c for c in request if c.key not in accepted]
        if isinstance(exc, Retryable) and exc.after:
            limiter.pause(sender.provider, exc.after)
        if exc.in_doubt:
            outcomes.in_doubt.extend((c.id, str(exc)) for c in rest)
        elif isinstance(exc, Retryable):
            outcomes.retry.extend((c, exc.reason, exc.after) for c in rest)
        elif isinstance(exc, Permanent):
            outcomes.failed.extend((c.id, exc.reason) for c in rest)
        else:
            raise
    else:
        outcomes.sent.extend((c.id, provider_id) for c in request)
