"""SendGrid Event Webhook events, each stored once under its ``sg_event_id``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from actionwave.core.models import Base, utcnow


class MailEvent(Base):
    __tablename__ = "mail_events"
    __table_args__ = (Index("ix_mail_events_event", "event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sg_event_id: Mapped[str] = mapped_column(String(100), unique=True)
    event: Mapped[str] = mapped_column(String(30))
    email: Mapped[str] = mapped_column(String(254))
    key: Mapped[str | None] = mapped_column(String(100), index=True)
    reason: Mapped[str | None] = mapped_column(String(500))
    occurred_at: Mapped[datetime | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
