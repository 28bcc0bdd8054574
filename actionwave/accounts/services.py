"""Creating organizers, signing them in and out, and the API tokens they use.

Every function takes a ``Session``; none needs Flask. Secrets handed out (session ids, API tokens)
are returned once and stored only as SHA-256 digests.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from actionwave.accounts import ROLES, throttle
from actionwave.accounts.models import ApiToken, AuditEntry, ConsoleSession, User
from actionwave.accounts.passwords import burn_time, hash_password, verify_password

SESSION_LIFETIME = timedelta(hours=12)
TOKEN_PREFIX = "aw_"


class AccountError(ValueError):
    """A request about accounts that cannot be honoured; ``str()`` says why, for the organizer."""


class LockedOut(AccountError):
    """Too many failed sign-ins for this account or address."""

    def __init__(self, lock: throttle.Lockout) -> None:
        super().__init__(f"Too many failed sign-ins. Try again in {lock.minutes} minutes.")
        self.lock = lock


SCOPES = ("read", "write", "admin")
# The scopes a token gets when none are asked for, and the most its role allows.
ROLE_SCOPES = {"viewer": ("read",), "organizer": ("read", "write"),
               "admin": ("read", "write", "admin")}
# A token's use is written (last_used_at and the audit log) at most this often.
TOKEN_USE_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Principal:
    """Who is asking: a signed-in organizer or an API token, the role they hold and, for a
    token, its scopes."""

    user_id: int | None
    label: str
    role: str
    via_token: bool = False
    scopes: frozenset[str] = frozenset(SCOPES)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_user(session: Session, email: str, password: str, role: str) -> User:
    """A new organizer. Raises ``AccountError`` (bad role, taken email) or ``WeakPassword``.
    Commits."""
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    email = email.strip().lower()
    if "@" not in email:
        raise AccountError("email must be an address")
    user = User(email=email, password_hash=hash_password(password), role=role)
    session.add(user)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise AccountError(f"an account for {email} already exists") from exc
    return user


def sign_in(session: Session, email: str, password: str, ip_hash: str) -> tuple[User, str]:
    """Check credentials and open a console session; returns the user and the new session id.

    Raises ``LockedOut`` before checking the password when this account from this address, the
    address, or the account is throttled (``actionwave.accounts.throttle``; the account-wide
    lock does not apply at the account's recent good addresses), and ``AccountError`` (the same
    message for an unknown email and a wrong password). Commits.
    """
    email = email.strip().lower()
    keys = [throttle.pair_key(email, ip_hash), throttle.address_key(ip_hash),
            throttle.account_key(email)]
    user = session.scalar(select(User).where(User.email == email))
    known = throttle.is_known_address(session, user.id if user else None, ip_hash)
    lock = throttle.lockout(session, keys[:2] if known else keys)
    if lock:
        raise LockedOut(lock)
    if user is None:
        burn_time()
    if user is None or user.disabled_at or not verify_password(password, user.password_hash):
        throttle.record_failure(session, keys)
        raise AccountError("That email and password don't match an organizer account.")
    throttle.clear_failures(session, keys[0])
    session_id = open_session(session, user, ip_hash)
    session.commit()
    return user, session_id


def open_session(session: Session, user: User, ip_hash: str) -> str:
    """A new console session for ``user`` signed in from ``ip_hash`` (remembered as a good
    address); returns its id. Does not commit."""
    throttle.remember_address(session, user.id, ip_hash)
    now = datetime.now(UTC)
    user.last_login_at = now
    session_id = secrets.token_urlsafe(32)
    session.add(ConsoleSession(id_hash=digest(session_id), user_id=user.id,
                               expires_at=now + SESSION_LIFETIME))
    return session_id


def sign_out(session: Session, session_id: str) -> None:
    """Close a console session so its id is worthless, even if the cookie was copied. Commits."""
    session.execute(delete(ConsoleSession).where(ConsoleSession.id_hash == digest(session_id)))
    session.commit()


def session_principal(session: Session, session_id: str) -> Principal | None:
    """The organizer behind a live console session id, or None (expired, closed, disabled)."""
    row = session.execute(
        select(User.id, User.email, User.role)
        .join(ConsoleSession, ConsoleSession.user_id == User.id)
        .where(ConsoleSession.id_hash == digest(session_id),
               ConsoleSession.expires_at > datetime.now(UTC), User.disabled_at.is_(None))
    ).first()
    return Principal(row.id, row.email, row.role) if row else None


def create_api_token(session: Session, name: str, role: str, user_id: int | None = None,
                     scopes: tuple[str, ...] | list[str] | None = None,
                     expires_at: datetime | None = None,
                     actor: str = "cli") -> tuple[ApiToken, str]:
    """A new API token for /api/v1; returns the row and the token itself, which is never shown
    again. ``scopes`` default to the role's (``ROLE_SCOPES``). Raises ``AccountError`` for an
    unknown role, a scope the role does not allow or an expiry in the past. Audited. Commits."""
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if not name.strip():
        raise AccountError("give the token a name that says who uses it")
    chosen = tuple(s for s in SCOPES if s in (scopes or ROLE_SCOPES[role]))
    if not chosen or set(scopes or ()) - set(ROLE_SCOPES[role]):
        raise AccountError(f"scopes: a {role} token may have {', '.join(ROLE_SCOPES[role])}")
    if expires_at is not None and expires_at <= datetime.now(UTC):
        raise AccountError("expires: give a date in the future, or none")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(name=name.strip()[:100], token_hash=digest(secret), role=role,
                     user_id=user_id, scopes=" ".join(chosen), expires_at=expires_at)
    session.add(token)
    session.flush()
    audit(session, actor, "token.create", f"token:{token.id}:{token.name}")
    session.commit()
    return token, secret


def token_principal(session: Session, secret: str) -> Principal | None:
    """The holder of a live API token (not revoked, not expired, its user not disabled), or
    None. Its use is recorded at most once per ``TOKEN_USE_EVERY`` (commits then only)."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    now = datetime.now(UTC)
    token = session.scalar(
        select(ApiToken).outerjoin(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == digest(secret), ApiToken.revoked_at.is_(None),
               (ApiToken.expires_at.is_(None)) | (ApiToken.expires_at > now),
               User.disabled_at.is_(None)))
    if token is None:
        return None
    last = token.last_used_at
    if last is None or _aware(last) < now - TOKEN_USE_EVERY:
        # A conditional update: of many requests at once, one writes the use.
        won = session.execute(update(ApiToken).where(
            ApiToken.id == token.id,
            (ApiToken.last_used_at.is_(None)) | (ApiToken.last_used_at < now - TOKEN_USE_EVERY))
            .values(last_used_at=now)).rowcount
        if won:
            audit(session, f"token:{token.name}", "token.use", f"token:{token.id}:{token.name}")
        session.commit()
    return Principal(token.user_id, f"token:{token.name}", token.role, via_token=True,
                     scopes=frozenset(token.scopes.split()))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def audit(session: Session, actor: str, action: str, subject: str) -> None:
    """Append to the audit log. Does not commit."""
    session.add(AuditEntry(actor=actor[:200], action=action, subject=subject[:200]))


def disable_user(session: Session, email: str, actor: str = "cli") -> bool:
    """Disable an account: its console sessions end and its API tokens are revoked now.
    True if it was enabled. Idempotent. Audited. Commits."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise AccountError(f"no account {email}")
    if user.disabled_at is not None:
        return False
    now = datetime.now(UTC)
    user.disabled_at = now
    session.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user.id))
    session.execute(update(ApiToken).where(ApiToken.user_id == user.id,
                                           ApiToken.revoked_at.is_(None))
                    .values(revoked_at=now))
    audit(session, actor, "user.disable", f"user:{user.email}")
    session.commit()
    return True


def revoke_api_token(session: Session, token_id: int, actor: str = "cli") -> bool:
    """Revoke a token for good; True if it was live. Idempotent. Audited. Commits."""
    result = session.execute(update(ApiToken).where(ApiToken.id == token_id,
                                                    ApiToken.revoked_at.is_(None))
                             .values(revoked_at=datetime.now(UTC)))
    if result.rowcount:
        audit(session, actor, "token.revoke", f"token:{token_id}")
    session.commit()
    return result.rowcount > 0


def list_api_tokens(session: Session) -> list[ApiToken]:
    """Every token, live ones first, newest first (their digests only)."""
    return list(session.scalars(select(ApiToken).order_by(ApiToken.revoked_at.is_not(None),
                                                          ApiToken.created_at.desc())))
