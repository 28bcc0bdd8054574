"""Login throttling: failed sign-ins counted in the database per account *and* client address
(``MAX_PER_PAIR``), per address (``MAX_PER_ADDRESS``) and per account (``MAX_PER_ACCOUNT``).

Failing someone's logins on purpose therefore locks out only the address that failed: the owner
signs in from their own address as before. Only a guess spread over many addresses reaches the
account-wide limit, and even then the account's recent good addresses (``KnownAddress``, kept
``KNOWN_FOR``) still sign in. A row per failure keeps the rule honest across web processes;
successful sign-ins clear that address's failures for the account. Old rows are pruned as new
ones are written.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from actionwave.accounts.models import KnownAddress, LoginFailure

WINDOW = timedelta(minutes=15)
MAX_PER_PAIR = 5
MAX_PER_ADDRESS = 20
MAX_PER_ACCOUNT = 50
KNOWN_FOR = timedelta(days=90)
LIMITS = {"pair": MAX_PER_PAIR, "ip": MAX_PER_ADDRESS, "account": MAX_PER_ACCOUNT}


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


def pair_key(email: str, ip_hash: str) -> str:
    """This account from this address (hashed: the key holds no email)."""
    both = f"{email.strip().lower()}|{ip_hash}".encode()
    return f"pair:{hashlib.sha256(both).hexdigest()}"


def is_known_address(session: Session, user_id: int | None, ip_hash: str,
                     now: datetime | None = None) -> bool:
    """Whether the account signed in from this address within ``KNOWN_FOR``. Read-only."""
    if user_id is None:
        return False
    now = now or datetime.now(UTC)
    return session.scalar(select(KnownAddress.user_id).where(
        KnownAddress.user_id == user_id, KnownAddress.ip_hash == ip_hash,
        KnownAddress.last_ok_at > now - KNOWN_FOR)) is not None


def remember_address(session: Session, user_id: int, ip_hash: str,
                     now: datetime | None = None) -> None:
    """Note a good sign-in from this address. Does not commit."""
    now = now or datetime.now(UTC)
    row = session.get(KnownAddress, (user_id, ip_hash))
    if row is None:
        session.add(KnownAddress(user_id=user_id, ip_hash=ip_hash, last_ok_at=now))
    else:
        row.last_ok_at = now


def lockout(session: Session, keys: list[str], now: datetime | None = None) -> Lockout | None:
    """The lockout in force for any of ``keys``, or None. Read-only."""
    now = now or datetime.now(UTC)
    for key in keys:
        limit = LIMITS[key.split(":", 1)[0]]
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
    """Forget the failures under ``key`` after a good sign-in. Does not commit."""
    session.execute(delete(LoginFailure).where(LoginFailure.key == key))
