"""What organizers supply about offices: addresses (committee staff, a district office's inbox),
and CWC office codes and contact forms that override the legislator data's
(``actionwave.campaigns.coverage`` imports them in bulk; ``plan_channels`` applies them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from actionwave.core.models import Base, utcnow


class TargetAddress(Base):
    """An email address for one legislator's office; ``campaign_id`` None means every campaign."""

    __tablename__ = "target_addresses"
    __table_args__ = (
        UniqueConstraint("campaign_id", "bioguide_id", "email"),
        Index("ix_target_addresses_bioguide", "bioguide_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"))
    bioguide_id: Mapped[str] = mapped_column(String(10))
    email: Mapped[str] = mapped_column(String(254))
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OfficeChannel(Base):
    """An office's CWC code or contact form as organizers know it, over the legislator data's.

    Keyed by bioguide id, so it survives data syncs; None keeps the data's value.
    """

    __tablename__ = "office_channels"

    bioguide_id: Mapped[str] = mapped_column(String(10), primary_key=True)
    cwc_office: Mapped[str | None] = mapped_column(String(10))
    contact_form: Mapped[str | None] = mapped_column(String(300))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def office_channels(session: Session) -> dict[str, OfficeChannel]:
    """Bioguide id -> the organizers' overrides for that office. Reads only."""
    return {row.bioguide_id: row for row in session.scalars(select(OfficeChannel))}


def target_addresses(session: Session, campaign_id: int) -> dict[str, str]:
    """Bioguide id -> address for a campaign; a campaign's own address wins over a general one."""
    rows = session.execute(
        select(TargetAddress.bioguide_id, TargetAddress.email, TargetAddress.campaign_id)
        .where(or_(TargetAddress.campaign_id == campaign_id, TargetAddress.campaign_id.is_(None)))
        .order_by(TargetAddress.campaign_id.is_(None).desc(), TargetAddress.id)
    ).all()
    return {bioguide: email for bioguide, email, _ in rows}
