"""Snapshot tables: each ``data sync`` writes a complete new snapshot, then flips one pointer.

Readers follow ``legislator_snapshot_current`` (a single row). Because the new snapshot's rows and
the pointer change commit in one transaction, a reader sees either the whole old snapshot or the
whole new one, never a mix.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from actionwave.core.models import Base, utcnow


class LegislatorSnapshot(Base):
    """One complete load of the legislator and ZIP-district data."""

    __tablename__ = "legislator_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(500))
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The sync summary (members by chamber, vacancies, ZIPs, ...), kept for the organizer.
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)


class CurrentSnapshot(Base):
    """The one row naming the snapshot readers use (``id`` is always 1)."""

    __tablename__ = "legislator_snapshot_current"

    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("legislator_snapshots.id"))


class Legislator(Base):
    """A sitting member of Congress as of one snapshot."""

    __tablename__ = "legislators"
    __table_args__ = (Index("ix_legislators_snapshot_state", "snapshot_id", "state"),)

    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("legislator_snapshots.id", ondelete="CASCADE"), primary_key=True
    )
    bioguide_id: Mapped[str] = mapped_column(String(10), primary_key=True)
    chamber: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(2))
    # House: 0 for at-large seats and delegates. Senate: None.
    district: Mapped[int | None]
    senate_class: Mapped[int | None]
    name: Mapped[str] = mapped_column(String(200))
    party: Mapped[str | None] = mapped_column(String(40))
    phone: Mapped[str | None] = mapped_column(String(40))
    url: Mapped[str | None] = mapped_column(String(300))
    contact_form: Mapped[str | None] = mapped_column(String(300))
    twitter: Mapped[str | None] = mapped_column(String(100))
    cwc_office: Mapped[str] = mapped_column(String(10))
    # District offices and other details that the lookup does not show.
    info: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ZipDistrict(Base):
    """One (ZCTA, state, district) pair of the crosswalk, as of one snapshot."""

    __tablename__ = "zip_districts"

    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("legislator_snapshots.id", ondelete="CASCADE"), primary_key=True
    )
    zcta: Mapped[str] = mapped_column(String(5), primary_key=True)
    state: Mapped[str] = mapped_column(String(2), primary_key=True)
    district: Mapped[int] = mapped_column(primary_key=True)
