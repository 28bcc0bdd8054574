"""One-time sign-in links: the second way in after an account-wide lockout (the first is the
account's recent good addresses, ``actionwave.accounts.throttle``).

An organizer whose account is locked asks for a link; it goes to the account's own address
(``actionwave.delivery.signin_link`` queues the mail), so only the owner of the mailbox can use it.
A link is valid ``LINK_LIFETIME`` and works once; only its token's SHA-256 digest is stored.
Using it signs in and clears the account's lock. At most ``MAX_PER_HOUR`` links are made per
account an hour, so asking cannot flood an organizer's mailbox.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from actionwave.accounts import throttle
from actionwave.accounts.models import LoginFailure, SigninLink, User
from actionwave.accounts.services import AccountError, audit, digest, open_session

LINK_LIFETIME = timedelta(minutes=15)
MAX_PER_HOUR = 3


def new_link(session: Session, email: str, now: datetime | None = None) -> tuple[User, str] | None:
    """A new link's token for the enabled account ``email``, with its user; None for no such
    account, a disabled one, or one that had ``MAX_PER_HOUR`` links in the last hour. Audited.
    Does not commit."""
    now = now or datetime.now(UTC)
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or user.disabled_at is not None:
        return None
    recent = session.scalar(select(func.count()).select_from(SigninLink).where(
        SigninLink.user_id == user.id, SigninLink.created_at > now - timedelta(hours=1)))
    if (recent or 0) >= MAX_PER_HOUR:
        return None
    token = secrets.token_urlsafe(32)
    session.add(SigninLink(token_hash=digest(token), user_id=user.id, created_at=now,
                           expires_at=now + LINK_LIFETIME))
    audit(session, f"user:{user.email}", "signin_link.request", f"user:{user.email}")
    return user, token


def use_link(session: Session, token: str, ip_hash: str) -> tuple[User, str]:
    """Sign in with a link's ``token`` from ``ip_hash``: marks it used (one statement, so two
    uses at once can't both win), clears the account's lock and opens a console session;
    returns the user and the session id. Raises ``AccountError`` for an unknown, used or
    expired link, or a disabled account. Commits."""
    now = datetime.now(UTC)
    user_id = session.scalar(
        update(SigninLink)
        .where(SigninLink.token_hash == digest(token), SigninLink.used_at.is_(None),
               SigninLink.expires_at > now)
        .values(used_at=now)
        .returning(SigninLink.user_id))
    user = session.get(User, user_id) if user_id is not None else None
    if user is None or user.disabled_at is not None:
        session.commit()  # a used link stays used
        raise AccountError("This sign-in link has expired or was already used.")
    session.execute(delete(LoginFailure).where(LoginFailure.key.in_(
        [throttle.account_key(user.email), throttle.pair_key(user.email, ip_hash)])))
    session_id = open_session(session, user, ip_hash)
    audit(session, f"user:{user.email}", "signin_link.use", f"user:{user.email}")
    session.commit()
    return user, session_id
