"""Bill stage transitions: the events the watcher detects, recorded once per campaign."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from actionwave.models import Base, BigId, utcnow


class BillStageTransition(Base):
    """A campaign's bill reached ``stage`` (in ``chamber``, when the stage has one).

    The unique constraint makes detection idempotent: two pollers, or one poll repeated, insert the
    same row once (``INSERT ... ON CONFLICT DO NOTHING``), and only the inserter acts on it. The
    announcement on X is claimed with a lease (``post_lease_until``) and marked by ``posted_at``.
    ``history`` marks a stage the bill had already passed when the campaign first saw it: recorded
    (closed, ``posted_at`` set) but never announced, and it starts no wave.
    """

    __tablename__ = "bill_stage_transitions"
    __table_args__ = (UniqueConstraint("campaign_id", "stage", "chamber"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(40))
    chamber: Mapped[str] = mapped_column(String(10), default="")
    action_date: Mapped[date]
    action_text: Mapped[str] = mapped_column(Text)
    detected_at: Mapped[datetime] = mapped_column(default=utcnow)
    post_lease_until: Mapped[datetime | None]
    posted_at: Mapped[datetime | None]
    post_id: Mapped[str | None] = mapped_column(String(40))
    post_error: Mapped[str | None] = mapped_column(Text)
    history: Mapped[bool] = mapped_column(default=False, server_default=false())
