"""One row per supporter action and legislator called: pressing "I called" twice counts once."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from actionwave.core.models import Base, utcnow

BigId = BigInteger().with_variant(Integer(), "sqlite")


class Call(Base):
    """A call a supporter reported making to one office, after their action."""

    __tablename__ = "calls"
    __table_args__ = (UniqueConstraint("action_id", "bioguide_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    action_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"),
                                             index=True)
    bioguide_id: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
