"""Wave fan-out: 100,000 supporters, paused and resumed halfway, two workers, exactly once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from actionwave.core.models import Campaign, Delivery, Wave
from actionwave.delivery.claims import in_running_wave
from actionwave.system.services import Services
from actionwave.waves.control import (
    cancel_wave,
    pause_wave,
    resume_wave,
    wave_progress,
)
from actionwave.waves.launch import create_wave, fan_out_wave, launch_wave, start_due_waves
from tests.support import consent_everyone, wait_for

SUPPORTERS = 100_000


def generate_supporters(session: Session, count: int, campaign_slug: str) -> None:
    """``count`` supporters who consented to the campaign's mail, in two set-based statements."""
    session.execute(text(
        "INSERT INTO supporters (email, first_name, last_name, state, zip, district, locale,"
        " created_at, updated_at) SELECT 's' || g || '@example.org', 'S', 'G', 'CA',"
        " '94110', 11, 'en', now(), now() FROM generate_series(1, :n) g"), {"n": count})
    consent_everyone(session, campaign_slug)


def claimable(session: Session, wave_id: int) -> int:
    """What the delivery engine's claim would see of this wave."""
    return session.scalar(select(func.count()).select_from(Delivery).where(
        Delivery.wave_id == wave_id, Delivery.state == "pending", in_running_wave())) or 0


def test_wave_to_100k_supporters_paused_and_resumed_reaches_each_exactly_once(
    committed_db: Services, campaign_slug: str,
) -> None:
    with committed_db.session() as session:
        campaign_id = session.scalar(select(Campaign.id).where(Campaign.slug == campaign_slug))
        generate_supporters(session, SUPPORTERS, campaign_slug)
        session.execute(text("UPDATE supporters SET unsubscribed_at = now() WHERE id % 1000 = 0"))
        wave_id = create_wave(session, campaign_id, "big wave").id
        session.commit()
        assert launch_wave(session, wave_id) and not launch_wave(session, wave_id)
    eligible = SUPPORTERS - SUPPORTERS // 1000

    first = threading.Thread(target=lambda: fan_out_wave(committed_db.session(), wave_id, 2000))
    first.start()
    with committed_db.session() as session:
        wait_for(lambda: (wave_progress(session, wave_id) or {})["total"] >= eligible // 2,
                 timeout=60, interval=0.02, message="half the wave fanned out")
        assert pause_wave(session, wave_id)
        first.join(timeout=60)
        paused_at = wave_progress(session, wave_id)
        assert paused_at is not None and paused_at["status"] == "paused"
        assert eligible // 2 <= paused_at["total"] < eligible
        assert claimable(session, wave_id) == 0  # the engine sends nothing while paused
        assert fan_out_wave(session, wave_id).inserted == 0

        assert resume_wave(session, wave_id)
    workers = [threading.Thread(target=lambda: fan_out_wave(committed_db.session(), wave_id, 3000))
               for _ in range(2)]  # a retried launch running on two workers at once
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    with committed_db.session() as session:
        progress = wave_progress(session, wave_id)
        duplicates = session.scalar(select(func.count()).select_from(
            select(Delivery.supporter_id).where(Delivery.wave_id == wave_id)
            .group_by(Delivery.supporter_id).having(func.count() > 1).subquery()))
        unsubscribed = session.scalar(select(func.count()).where(
            Delivery.wave_id == wave_id, Delivery.supporter_id % 1000 == 0))
        assert progress is not None and progress["fanned_out"]
        assert progress["total"] == eligible and progress["pending"] == eligible
        assert duplicates == 0 and unsubscribed == 0
        assert claimable(session, wave_id) == eligible


def test_cancelled_wave_stops_fan_out_and_is_not_claimable(
    db_session: Session, campaign_slug: str,
) -> None:
    campaign_id = db_session.scalar(select(Campaign.id).where(Campaign.slug == campaign_slug))
    generate_supporters(db_session, 30, campaign_slug)
    wave = create_wave(db_session, campaign_id, "cancel me")
    launch_wave(db_session, wave.id)
    fan_out_wave(db_session, wave.id, chunk_size=10)
    assert cancel_wave(db_session, wave.id)
    assert claimable(db_session, wave.id) == 0
    assert not resume_wave(db_session, wave.id) and not launch_wave(db_session, wave.id)


def test_paced_wave_spreads_its_chunks_a_minute_apart_and_shifts_on_resume(
    db_session: Session, campaign_slug: str,
) -> None:
    campaign_id = db_session.scalar(select(Campaign.id).where(Campaign.slug == campaign_slug))
    generate_supporters(db_session, 25, campaign_slug)
    wave = create_wave(db_session, campaign_id, "slow", pace_per_minute=10)
    start = datetime(2030, 1, 1, 12, tzinfo=UTC)
    launch_wave(db_session, wave.id, now=start)
    fan_out_wave(db_session, wave.id, now=start)
    slots = db_session.scalars(select(Delivery.next_attempt_at).where(
        Delivery.wave_id == wave.id).distinct().order_by(Delivery.next_attempt_at)).all()
    assert slots == [start, start + timedelta(minutes=1), start + timedelta(minutes=2)]
    pause_wave(db_session, wave.id, now=start)
    resume_wave(db_session, wave.id, now=start + timedelta(minutes=5))
    shifted = db_session.scalars(select(Delivery.next_attempt_at).where(
        Delivery.wave_id == wave.id).distinct().order_by(Delivery.next_attempt_at)).all()
    assert shifted == [s + timedelta(minutes=5) for s in slots]


def test_time_triggered_wave_starts_once_when_due(db_session: Session, campaign_slug: str) -> None:
    campaign_id = db_session.scalar(select(Campaign.id).where(Campaign.slug == campaign_slug))
    at = datetime(2030, 1, 1, tzinfo=UTC)
    wave = create_wave(db_session, campaign_id, "at noon", trigger="time", trigger_at=at)
    assert start_due_waves(db_session, now=at - timedelta(seconds=1)) == []
    assert start_due_waves(db_session, now=at) == [wave.id]
    assert start_due_waves(db_session, now=at) == []
    assert db_session.get(Wave, wave.id, populate_existing=True).status == "running"
