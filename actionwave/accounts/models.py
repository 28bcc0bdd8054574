"""Tables for organizer accounts (see ``actionwave.accounts``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from actionwave.core.models import Base, BigId, utcnow

ROLE_CHECK = "role IN ('viewer', 'organizer', 'admin')"


class User(Base):
    """An organizer who signs in to the console."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(ROLE_CHECK, name="role_valid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20))
    disabled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]


class ConsoleSession(Base):
    """A signed-in browser. The cookie holds the id; only its SHA-256 digest is stored."""

    __tablename__ = "console_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class KnownAddress(Base):
    """A client address (salted hash) an account signed in from: after a lockout of the account
    by failures from elsewhere, sign-in still works from here."""

    __tablename__ = "known_addresses"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    ip_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_ok_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    """A bearer token for the organizer API, shown once; only its SHA-256 digest is stored."""

    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint(ROLE_CHECK, name="role_valid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    # Space-separated, from SCOPES ("read", "write", "admin"): what the token may do within
    # its role. Tokens older than the scopes got the scopes of their role (migration 0012).
    scopes: Mapped[str] = mapped_column(String(40))
    expires_at: Mapped[datetime | None]


class LoginFailure(Base):
    """One failed sign-in, counted per account and per client address to throttle guessing."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # "account:<email>" or "ip:<salted hash of the address>"
    key: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """Something done with an account or token: who (``actor``), what, to what. Append-only."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # "user:<email>", "token:<name>" or "cli"
    actor: Mapped[str] = mapped_column(String(200))
    # token.create, token.use, token.revoke, user.disable, signin_link.request, signin_link.use
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))


class SigninLink(Base):
    """A mailed one-time sign-in link (the way in after an account-wide lockout): only the
    SHA-256 digest of its token is stored; ``used_at`` is set when it is used, once."""

    __tablename__ = "signin_links"
    __table_args__ = (Index("ix_signin_links_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
