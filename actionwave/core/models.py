"""The core data model. Feature areas add their own tables in their own ``models.py``.

States are plain strings checked by the database; the allowed transitions live with the code that
moves them (see ``actionwave.delivery.states`` for deliveries).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSONB on PostgreSQL, JSON text on SQLite.
JsonDoc = JSON().with_variant(JSONB(), "postgresql")
# BIGINT on PostgreSQL, INTEGER (so it is the rowid alias) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: use datetime.now(UTC)")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {  # noqa: RUF012
        dict[str, Any]: JsonDoc,
        list[Any]: JsonDoc,
        datetime: UTCDateTime(),
        date: Date,
    }


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def _check_in(column: str, values: tuple[str, ...]) -> CheckConstraint:
    quoted = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({quoted})", name=f"{column}_valid")


CAMPAIGN_STATUSES = ("draft", "active", "paused", "closed")
LOCALES = ("en", "zh-Hant")
TEMPLATE_KINDS = ("email", "tweet", "confirmation", "reminder", "wave")
ACTION_STATUSES = ("accepted", "resolved", "needs_address", "delivering", "done", "failed")
DELIVERY_STATES = ("pending", "sending", "sent", "failed", "dead")
CONSENT_SOURCES = ("form", "api", "import", "migrated")
WAVE_STATUSES = ("draft", "scheduled", "running", "paused", "done", "cancelled")


class Campaign(Timestamps, Base):
    __tablename__ = "campaigns"
    __table_args__ = (_check_in("status", CAMPAIGN_STATUSES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    bill_congress: Mapped[int | None]
    bill_type: Mapped[str | None] = mapped_column(String(10))
    bill_number: Mapped[int | None]
    target_chambers: Mapped[list[Any]] = mapped_column(default=lambda: ["house", "senate"])
    status: Mapped[str] = mapped_column(String(20), default="active")
    # Page copy per locale, co-hosts, links: the parts of the YAML that are not templates.
    content: Mapped[dict[str, Any]] = mapped_column(default=dict)

    templates: Mapped[list[MessageTemplate]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan"
    )

    @property
    def bill_label(self) -> str:
        if not (self.bill_type and self.bill_number):
            return ""
        kind = {"hr": "H.R.", "s": "S.", "hres": "H.Res.", "sres": "S.Res."}.get(
            self.bill_type.lower(), self.bill_type.upper()
        )
        return f"{kind} {self.bill_number}"


class MessageTemplate(Timestamps, Base):
    __tablename__ = "message_templates"
    __table_args__ = (
        UniqueConstraint("campaign_id", "kind", "locale", "name"),
        _check_in("kind", TEMPLATE_KINDS),
        _check_in("locale", LOCALES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    locale: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(80), default="default")
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text)

    campaign: Mapped[Campaign] = relationship(back_populates="templates")


class Supporter(Timestamps, Base):
    __tablename__ = "supporters"
    __table_args__ = (_check_in("locale", LOCALES),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(2))
    zip: Mapped[str] = mapped_column(String(10))
    district: Mapped[int | None]
    locale: Mapped[str] = mapped_column(String(10), default="en")
    # Set by the "stop all mail" choice: no mail at all, not even confirmations. Consent to one
    # campaign's mail is a ``CampaignConsent``.
    unsubscribed_at: Mapped[datetime | None]
    # Bounce, drop, spam report or erasure (``actionwave.mail.events``, ``supporters``).
    suppressed_reason: Mapped[str | None] = mapped_column(String(40))


class CampaignConsent(Base):
    """A supporter's agreement to get one campaign's mail, and what proves it.

    One row per supporter and campaign: when, through what (``CONSENT_SOURCES``), the exact text
    they were shown and its language, and the action it came with. The first consent stands as
    given (a later submission never rewrites its proof), and so does a withdrawal: a later form,
    which anyone can fill in with someone else's address, never revives it. Who may be mailed is
    decided in ``actionwave.mail.audience``.
    """

    __tablename__ = "campaign_consents"
    __table_args__ = (
        UniqueConstraint("campaign_id", "supporter_id"),
        _check_in("source", CONSENT_SOURCES),
        _check_in("locale", LOCALES),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    supporter_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("supporters.id", ondelete="CASCADE"), index=True
    )
    action_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("actions.id", ondelete="SET NULL")
    )
    source: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(10))
    given_at: Mapped[datetime]
    withdrawn_at: Mapped[datetime | None]
    # How it was withdrawn: "link" (the campaign's unsubscribe link or one-click), "everything"
    # (the supporter stopped all mail), "erased".
    withdrawn_via: Mapped[str | None] = mapped_column(String(20))


class Action(Timestamps, Base):
    """One supporter's submission to one campaign."""

    __tablename__ = "actions"
    __table_args__ = (
        _check_in("status", ACTION_STATUSES),
        Index("ix_actions_campaign_created", "campaign_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    supporter_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("supporters.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), default="accepted")
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    message: Mapped[str | None] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(10), default="en")
    # Fields the supporter gave with this submission (address, chosen district, ...).
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None]

    targets: Mapped[list[Target]] = relationship(cascade="all, delete-orphan")


class Target(Base):
    """A legislator resolved for an action, copied so later data syncs don't rewrite history."""

    __tablename__ = "targets"
    __table_args__ = (UniqueConstraint("action_id", "bioguide_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    action_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"))
    bioguide_id: Mapped[str] = mapped_column(String(10))
    chamber: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(2))
    district: Mapped[int | None]
    name: Mapped[str] = mapped_column(String(200))
    cwc_office: Mapped[str | None] = mapped_column(String(10))
    info: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Delivery(Timestamps, Base):
    """One message on one channel to one recipient; the rows are the truth of what was sent."""

    __tablename__ = "deliveries"
    __table_args__ = (
        _check_in("state", DELIVERY_STATES),
        Index("ix_deliveries_due", "state", "next_attempt_at"),
        Index("ix_deliveries_wave_state", "wave_id", "state"),
        Index("ix_deliveries_campaign_state", "campaign_id", "state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    action_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("actions.id", ondelete="CASCADE"), index=True
    )
    target_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("targets.id", ondelete="CASCADE")
    )
    supporter_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("supporters.id", ondelete="CASCADE"), index=True
    )
    wave_id: Mapped[int | None] = mapped_column(ForeignKey("waves.id", ondelete="CASCADE"))
    # The campaign it belongs to (of its action, wave or reminder): the console counts by it.
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str | None] = mapped_column(String(254))
    state: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None]
    provider_id: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    sent_at: Mapped[datetime | None]


class Reminder(Base):
    """A follow-up that falls due at ``due_at``; swept by beat, never a broker countdown."""

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("supporter_id", "campaign_id", "kind", "key"),
        Index("ix_reminders_due", "sent_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    supporter_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("supporters.id", ondelete="CASCADE")
    )
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    action_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("actions.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(80), default="")
    due_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    # Why the sweep closed it: sent, unsubscribed, capped (see actionwave.reminders).
    outcome: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Wave(Timestamps, Base):
    """An organizer's call to a segment of supporters, started by time, bill stage or hand."""

    __tablename__ = "waves"
    __table_args__ = (_check_in("status", WAVE_STATUSES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    template_name: Mapped[str] = mapped_column(String(80), default="default")
    segment: Mapped[dict[str, Any]] = mapped_column(default=dict)
    trigger: Mapped[str] = mapped_column(String(20), default="manual")
    trigger_at: Mapped[datetime | None]
    trigger_stage: Mapped[str | None] = mapped_column(String(40))
    pace_per_minute: Mapped[int | None]
    total: Mapped[int] = mapped_column(default=0)
    launched_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # Fan-out bookkeeping (actionwave.waves.launch): highest supporter id fanned out so far.
    fanout_cursor: Mapped[int] = mapped_column(BigId, default=0, server_default="0")
    fanned_out_at: Mapped[datetime | None]
    paused_at: Mapped[datetime | None]
    # The bill stage transition (actionwave.bill.models) that started this wave, if any.
    transition_id: Mapped[int | None]


class BillAction(Base):
    """One action on a bill as reported by congress.gov, stored once across source systems."""

    __tablename__ = "bill_actions"
    __table_args__ = (UniqueConstraint("congress", "bill_type", "bill_number", "fingerprint"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    congress: Mapped[int]
    bill_type: Mapped[str] = mapped_column(String(10))
    bill_number: Mapped[int]
    action_date: Mapped[date]
    action_code: Mapped[str | None] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    source_system: Mapped[str | None] = mapped_column(String(80))
    stage: Mapped[str | None] = mapped_column(String(40))
    fingerprint: Mapped[str] = mapped_column(String(64))
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxMessage(Base):
    """A message written in the same transaction as the change it announces.

    The relay (``actionwave.intake.outbox``) publishes these to the broker and deletes them, so a
    committed change is never lost to a broker outage.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    topic: Mapped[str] = mapped_column(String(40))
    ref: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
