"""The bill watcher's records: stage transitions (once per campaign), each campaign's last poll."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from actionwave.core.models import Base, BigId, utcnow


class BillStageTransition(Base):
    """A campaign's bill reached ``stage`` (in ``chamber``, when the stage has one).

    The unique constraint makes detection idempotent: two pollers, or one poll repeated, insert the
    same row once (``INSERT ... ON CONFLICT DO NOTHING``), and only the inserter acts on it. The
    announcement on X is claimed with a lease (``post_lease_until``) and marked by ``posted_at``.
    ``history`` marks a stage the bill had already passed when the campaign first saw it: recorded
    (closed, ``posted_at`` and ``reacted_at`` set) but never announced, and it starts no wave.
    ``reacted_at`` is set once the waves and reminders bound to the stage were started
    (``actionwave.campaigns.reactions``): the watcher records the event, the campaign reacts to it.
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
    reacted_at: Mapped[datetime | None]


class BillPoll(Base):
    """The last poll of a campaign's bill, and the last that succeeded: one row per campaign.

    One row, overwritten by each poll, keeps the table as small as the campaign list while
    answering all the console asks (when, what was found, which error, since when it fails);
    the history of polls lives in the logs and the ``bill_polls`` counters. ``error_message``
    is written by the watcher (never the provider's raw text or a URL), so it holds no secret.
    ``retry_at`` holds the wait congress.gov asked for (``Retry-After``) across beat ticks.
    """

    __tablename__ = "bill_polls"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(20))  # changed, unchanged, failed
    error_kind: Mapped[str | None] = mapped_column(String(20))
    error_message: Mapped[str | None] = mapped_column(Text)
    actions_seen: Mapped[int | None] = mapped_column(Integer)  # None: the bill had not changed
    new_actions: Mapped[int] = mapped_column(Integer, default=0)
    new_transitions: Mapped[int] = mapped_column(Integer, default=0)
    retry_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    failures_in_row: Mapped[int] = mapped_column(Integer, default=0)
    polls: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
