"""Creating, starting and fanning out waves.

Fan-out turns a segment into ``deliveries`` rows (channel ``wave_email``) with set-based
``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` in keyset-paginated chunks of supporter ids: no
supporter list is ever held in memory and no task is queued per supporter. The idempotency key
``wave:<wave id>:<supporter id>`` is unique, so a retried launch, or two workers fanning out the
same wave, can never give a supporter the same wave twice. The delivery engine sends the rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import String, cast, func, literal, select, update
from sqlalchemy.orm import Session

from actionwave.bill.stages import STAGES
from actionwave.core.models import Campaign, Delivery, JsonDoc, Supporter, UTCDateTime, Wave
from actionwave.platform.db import dialect_insert
from actionwave.waves.segment import Segment, SegmentError, segment_filter

WAVE_CHANNEL = "wave_email"
TRIGGERS = ("manual", "time", "stage")
STARTABLE = ("draft", "scheduled")


class WaveError(SegmentError):
    """An organizer's wave request is invalid; ``field`` names the part to fix."""


@dataclass(frozen=True)
class FanOut:
    inserted: int
    finished: bool


def create_wave(session: Session, campaign_id: int, name: str, *, template_name: str = "default",
                segment: dict[str, Any] | None = None, trigger: str = "manual",
                trigger_at: datetime | None = None, trigger_stage: str | None = None,
                pace_per_minute: int | None = None) -> Wave:
    """Validate and store a wave (``draft`` by hand, ``scheduled`` for time and stage triggers).

    Raises ``WaveError``/``SegmentError``. Flushes; the caller commits.
    """
    if session.get(Campaign, campaign_id) is None:
        raise WaveError("campaign", "no such campaign")
    if not name or len(name) > 200:
        raise WaveError("name", "required, at most 200 characters")
    parsed = Segment.from_dict(segment or {})
    if trigger not in TRIGGERS:
        raise WaveError("trigger", f"one of {', '.join(TRIGGERS)}")
    if trigger == "time" and (trigger_at is None or trigger_at.tzinfo is None):
        raise WaveError("trigger_at", "a date-time with a time zone is required")
    if trigger == "stage" and (trigger_stage or "").split(":")[0] not in STAGES:
        raise WaveError("trigger_stage", f"one of {', '.join(STAGES)} (optionally :house/:senate)")
    if pace_per_minute is not None and pace_per_minute < 1:
        raise WaveError("pace_per_minute", "a positive number")
    wave = Wave(campaign_id=campaign_id, name=name, template_name=template_name,
                segment=parsed.to_dict(), trigger=trigger, trigger_at=trigger_at,
                trigger_stage=trigger_stage, pace_per_minute=pace_per_minute,
                status="draft" if trigger == "manual" else "scheduled")
    session.add(wave)
    session.flush()
    return wave


def launch_wave(session: Session, wave_id: int, now: datetime | None = None) -> bool:
    """Start a draft or scheduled wave by hand. True if this call started it. Commits."""
    now = now or datetime.now(UTC)
    started = session.execute(
        update(Wave).where(Wave.id == wave_id, Wave.status.in_(STARTABLE))
        .values(status="running", launched_at=now, updated_at=now)
    ).rowcount
    session.commit()
    return bool(started)


def start_due_waves(session: Session, now: datetime | None = None) -> list[int]:
    """Start every scheduled time-triggered wave whose time has come. Commits; idempotent."""
    now = now or datetime.now(UTC)
    ids = list(session.scalars(
        update(Wave).where(Wave.trigger == "time", Wave.status == "scheduled",
                           Wave.trigger_at <= now)
        .values(status="running", launched_at=now, updated_at=now).returning(Wave.id)
    ))
    session.commit()
    return ids


def start_stage_waves(session: Session, campaign_id: int, stage_key: str, transition_id: int,
                      now: datetime | None = None) -> list[int]:
    """Start the campaign's waves bound to a stage (``passed_house`` or ``in_committee:senate``).

    Call it in the transaction that inserts the transition: a wave starts at most once because
    only ``scheduled`` waves move. Does not commit.
    """
    now = now or datetime.now(UTC)
    names = {stage_key, stage_key.split(":")[0]}
    return list(session.scalars(
        update(Wave).where(Wave.campaign_id == campaign_id, Wave.trigger == "stage",
                           Wave.status == "scheduled", Wave.trigger_stage.in_(names))
        .values(status="running", launched_at=now, updated_at=now, transition_id=transition_id)
        .returning(Wave.id)
    ))


def waves_to_fan_out(session: Session) -> list[int]:
    return list(session.scalars(
        select(Wave.id).where(Wave.status == "running", Wave.fanned_out_at.is_(None))
    ))


def fan_out_wave(session: Session, wave_id: int, chunk_size: int = 5000,
                 now: datetime | None = None,
                 on_chunk: Callable[[int], None] | None = None) -> FanOut:
    """Insert the wave's deliveries chunk by chunk, committing each chunk. Idempotent.

    Stops early (``finished=False``) when the wave is paused or cancelled; calling again resumes
    after the last committed chunk. Paced waves get one minute's worth of rows per chunk, each
    chunk due one minute after the previous one. ``on_chunk`` hears how many supporters each
    committed chunk added (for a progress bar).
    """
    now = now or datetime.now(UTC)
    inserted = 0
    while True:
        wave = session.get(Wave, wave_id, populate_existing=True)
        if wave is None or wave.status != "running":
            session.commit()
            return FanOut(inserted, finished=wave is not None and wave.fanned_out_at is not None)
        where = segment_filter(Segment.from_dict(wave.segment), wave.campaign_id)
        size = min(chunk_size, wave.pace_per_minute or chunk_size)
        chunk = (select(Supporter.id).where(where, Supporter.id > wave.fanout_cursor)
                 .order_by(Supporter.id).limit(size).subquery())
        upper = session.scalar(select(func.max(chunk.c.id)))
        if upper is None:
            total = session.scalar(select(func.count()).where(Delivery.wave_id == wave_id))
            session.execute(update(Wave).where(Wave.id == wave_id, Wave.fanned_out_at.is_(None))
                            .values(fanned_out_at=now, total=total, updated_at=now))
            session.commit()
            return FanOut(inserted, finished=True)
        due = now
        if wave.pace_per_minute:
            already = session.scalar(select(func.count()).where(Delivery.wave_id == wave_id)) or 0
            due = (wave.launched_at or now) + timedelta(minutes=already // wave.pace_per_minute)
        added = _insert_chunk(session, wave, where, upper, due, now)
        inserted += added
        session.execute(update(Wave).where(Wave.id == wave_id, Wave.fanout_cursor < upper)
                        .values(fanout_cursor=upper))
        session.commit()
        if on_chunk:
            on_chunk(added)


def _insert_chunk(session: Session, wave: Wave, where: Any, upper: int, due: datetime,
                  now: datetime) -> int:
    payload = {"wave_id": wave.id, "template": wave.template_name}
    rows = select(
        Supporter.id, literal(wave.id), literal(wave.campaign_id), literal(WAVE_CHANNEL),
        Supporter.email,
        literal("pending"), literal(0), literal(due, UTCDateTime()),
        literal(f"wave:{wave.id}:", String) + cast(Supporter.id, String),
        literal(payload, JsonDoc), literal(now, UTCDateTime()), literal(now, UTCDateTime()),
    ).where(where, Supporter.id > wave.fanout_cursor, Supporter.id <= upper)
    insert = dialect_insert(session, Delivery.__table__).from_select(
        ["supporter_id", "wave_id", "campaign_id", "channel", "recipient", "state", "attempts",
         "next_attempt_at", "idempotency_key", "payload", "created_at", "updated_at"], rows,
    ).on_conflict_do_nothing(index_elements=["idempotency_key"])
    return session.execute(insert).rowcount or 0
