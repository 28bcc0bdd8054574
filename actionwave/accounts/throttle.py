"""Login throttling: failed sign-ins counted per account and per client address in the database.

A row per failure keeps the rule honest across web processes; successful sign-ins clear the
account's failures. Old rows are pruned as new ones are written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from actionwave.accounts.models import LoginFailure

WINDOW = timedelta(minutes=15)
MAX_PER_ACCOUNT = 5
MAX_PER_ADDRESS = 20


@dataclass(frozen=True)
class Lockout:
    """Sign-in refused until ``until`` because of too many recent failures."""

    until: datetime

    @property
    def minutes(self) -> int:
        return max(1, int((self.until - datetime.now(UTC)).total_seconds() // 60) + 1)


def account_key(email: str) -> str:
    return f"account:{email.strip().lower()}"


def address_key(ip_hash: str) -> str:
    return f"ip:{ip_hash}"


def lockout(session: Session, keys: list[str], now: datetime | None = None) -> Lockout | None:
    """The lockout in force for any of ``keys`` (account first), or None. Read-only."""
    now = now or datetime.now(UTC)
    for key in keys:
        limit = MAX_PER_ACCOUNT if key.startswith("account:") else MAX_PER_ADDRESS
        recent = session.scalars(
            select(LoginFailure.at).where(LoginFailure.key == key, LoginFailure.at > now - WINDOW)
            .order_by(LoginFailure.at.desc()).limit(limit)
        ).all()
        if len(recent) >= limit:
            # Sign-in opens again when the oldest of these falls out of the window.
            return Lockout(until=recent[-1] + WINDOW)
    return None


def record_failure(session: Session, keys: list[str], now: datetime | None = None) -> None:
    """Count one failure against each key and prune failures older than the window. Commits."""
    now = now or datetime.now(UTC)
    session.add_all(LoginFailure(key=key, at=now) for key in keys)
    session.execute(delete(LoginFailure).where(LoginFailure.at < now - WINDOW))
    session.commit()


def clear_failures(session: Session, key: str) -> None:
    """Forget an account's failures after it signs in. Does not commit."""
    session.execute(delete(LoginFailure).where(LoginFailure.key == key))
