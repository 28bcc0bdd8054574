"""Recording what happened to claimed deliveries: set-based, conditional on the lease.

Every write is a conditional UPDATE through ``states.move`` that only touches rows this worker
still holds, so an outcome arriving after the lease was taken away (see ``recovery``) changes
nothing and is counted as ``not_held``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session

from actionwave.core.counters import bump_counters
from actionwave.delivery.claims import Claimed
from actionwave.delivery.policy import DeliveryPolicy
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
from actionwave.platform.logs import RedactSecrets


@dataclass
class Outcomes:
    """What happened to claimed deliveries of ``channel``, waiting to be written in one
    transaction; ``waits`` counts the times a rate-limit token was not there, by bucket."""

    channel: str
    sent: list[tuple[int, str | None]] = field(default_factory=list)
    retry: list[tuple[Claimed, str, float | None]] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    dead: list[tuple[int, str]] = field(default_factory=list)  # never sent (``Unsendable``)
    postponed: list[tuple[int, float]] = field(default_factory=list)
    in_doubt: list[tuple[int, str]] = field(default_factory=list)
    waits: Counter[str] = field(default_factory=Counter)

    def __len__(self) -> int:
        return (len(self.sent) + len(self.retry) + len(self.failed) + len(self.dead)
                + len(self.postponed) + len(self.in_doubt))


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

    def add(self, part: BatchResult) -> None:
        """Add ``part``'s outcome counts (not ``claimed``) to this result."""
        for name in ("sent", "retried", "failed", "dead", "postponed", "in_doubt", "not_held"):
            setattr(self, name, getattr(self, name) + getattr(part, name))


def _scrubbed(outcomes: Outcomes, redact: Callable[[str], str]) -> Outcomes:
    """``outcomes`` with every secret setting's value replaced in the reasons to be stored."""
    return replace(
        outcomes,
        retry=[(c, redact(reason), after) for c, reason, after in outcomes.retry],
        failed=[(i, redact(reason)) for i, reason in outcomes.failed],
        dead=[(i, redact(reason)) for i, reason in outcomes.dead],
        in_doubt=[(i, redact(reason)) for i, reason in outcomes.in_doubt])


def record_outcomes(
    session: Session, outcomes: Outcomes, worker_id: str, policy: DeliveryPolicy
) -> BatchResult:
    """Write ``outcomes`` for rows this worker still holds, set-based, in one transaction.

    Retryable failures go back to ``pending`` with a backoff, or to ``dead`` when out of attempts
    (as do messages never sent because they could not be: ``Unsendable``);
    postponed rows go back without using up an attempt; rows whose request may have left
    (a timeout) are handed to the in-doubt sweep, which asks the provider before any resend.
    The sends written and the rate-limit waits are added to the running counts
    (``actionwave.core.counters``). Commits.
    """
    now = datetime.now(UTC)
    outcomes = _scrubbed(outcomes, RedactSecrets(policy.secrets).redact)
    mine = [deliveries.c.id == bindparam("b_id"), deliveries.c.lease_owner == worker_id]
    result = BatchResult()
    statements: list[tuple[Any, list[dict[str, Any]]]] = []
    connection = session.connection()
    sent_written = 0
    if outcomes.sent:
        stmt = move(SENDING, SENT, *mine, sent_at=now, last_error=None,
                    provider_id=bindparam("b_provider"))
        sent_written = connection.execute(
            stmt, [{"b_id": i, "b_provider": p} for i, p in outcomes.sent]).rowcount
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
    out += outcomes.dead
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
    written = sent_written + sum(connection.execute(stmt, params).rowcount
                                 for stmt, params in statements)
    bump_counters(session, {
        "in_doubt": result.in_doubt, f"deliveries_sent:{outcomes.channel}": sent_written,
        **{f"rate_limit_waits:{bucket}": n for bucket, n in outcomes.waits.items()},
    })
    session.commit()
    result.not_held = len(outcomes) - written
    return result
