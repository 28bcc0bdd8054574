"""Pausing, resuming, cancelling and watching a wave.

Pause and cancel act on the wave's ``status`` only; the delivery engine's claim skips pending
wave deliveries whose wave is not ``running`` (``actionwave.delivery.claims.in_running_wave``),
so a paused wave's rows stay ``pending`` and go out after ``resume``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from actionwave.core.models import Campaign, Delivery, Wave

FINISHED_STATES = ("sent", "failed", "dead")


def _move(session: Session, wave_id: int, from_states: tuple[str, ...], **values: Any) -> bool:
    moved = session.execute(
        update(Wave).where(Wave.id == wave_id, Wave.status.in_(from_states)).values(**values)
    ).rowcount
    session.commit()
    return bool(moved)


def pause_wave(session: Session, wave_id: int, now: datetime | None = None) -> bool:
    """Pause a running wave; True if it was running. Commits."""
    now = now or datetime.now(UTC)
    return _move(session, wave_id, ("running",), status="paused", paused_at=now, updated_at=now)


def resume_wave(session: Session, wave_id: int, now: datetime | None = None) -> bool:
    """Resume a paused wave; a paced wave's remaining schedule moves by the time paused. Commits."""
    now = now or datetime.now(UTC)
    wave = session.get(Wave, wave_id, populate_existing=True)
    if wave is None or wave.status != "paused":
        return False
    if wave.pace_per_minute and wave.paused_at is not None:
        shift = now - wave.paused_at
        pending = (Delivery.wave_id == wave_id, Delivery.state == "pending")
        # Latest first, so a shifted slot never lands on one still to be shifted.
        for slot in session.scalars(select(Delivery.next_attempt_at).where(*pending)
                                    .distinct().order_by(Delivery.next_attempt_at.desc())):
            session.execute(update(Delivery).where(*pending, Delivery.next_attempt_at == slot)
                            .values(next_attempt_at=slot + shift))
    return _move(session, wave_id, ("paused",), status="running", paused_at=None, updated_at=now)


def cancel_wave(session: Session, wave_id: int, now: datetime | None = None) -> bool:
    """Cancel a wave that has not finished; its pending deliveries are never sent. Commits."""
    now = now or datetime.now(UTC)
    return _move(session, wave_id, ("draft", "scheduled", "running", "paused"),
                 status="cancelled", finished_at=now, updated_at=now)


def finish_waves(session: Session, now: datetime | None = None) -> list[int]:
    """Mark running, fully fanned-out waves with nothing left to send as ``done``. Commits."""
    now = now or datetime.now(UTC)
    unfinished = exists().where(Delivery.wave_id == Wave.id,
                                Delivery.state.in_(("pending", "sending")))
    ids = list(session.scalars(
        update(Wave).where(Wave.status == "running", Wave.fanned_out_at.is_not(None),
                           ~unfinished)
        .values(status="done", finished_at=now, updated_at=now).returning(Wave.id)
    ))
    session.commit()
    return ids


def list_waves(session: Session, campaign_id: int | None = None,
               statuses: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Each wave's ``wave_progress`` (of one campaign, in some statuses), newest first, with
    its campaign's slug. Reads only."""
    query = select(Wave.id, Campaign.slug).join(Campaign, Campaign.id == Wave.campaign_id) \
        .order_by(Wave.id.desc())
    if campaign_id is not None:
        query = query.where(Wave.campaign_id == campaign_id)
    if statuses:
        query = query.where(Wave.status.in_(statuses))
    return [{**(wave_progress(session, wave_id) or {}), "campaign": slug}
            for wave_id, slug in session.execute(query).all()]


def wave_progress(session: Session, wave_id: int) -> dict[str, Any] | None:
    """The wave's status and delivery counts right now, or None if there is no such wave."""
    wave = session.get(Wave, wave_id, populate_existing=True)
    if wave is None:
        return None
    counts = dict(session.execute(
        select(Delivery.state, func.count()).where(Delivery.wave_id == wave_id)
        .group_by(Delivery.state)
    ).all())
    fanned = sum(counts.values())
    return {
        "id": wave.id, "campaign_id": wave.campaign_id, "name": wave.name,
        "status": wave.status, "trigger": wave.trigger,
        "trigger_stage": wave.trigger_stage,
        "trigger_at": wave.trigger_at.isoformat() if wave.trigger_at else None,
        "segment": wave.segment, "pace_per_minute": wave.pace_per_minute,
        "fanned_out": wave.fanned_out_at is not None,
        "total": wave.total if wave.fanned_out_at else fanned,
        "done": counts.get("sent", 0),
        "failed": counts.get("failed", 0) + counts.get("dead", 0),
        "pending": counts.get("pending", 0) + counts.get("sending", 0),
        "launched_at": wave.launched_at.isoformat() if wave.launched_at else None,
        "finished_at": wave.finished_at.isoformat() if wave.finished_at else None,
    }
