"""One beat at a time: the Redis beat lock and the scheduler that obeys it."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from actionwave.platform.config import Settings
from schedules.lock import LOCK_TTL_SECONDS, BeatLock, SingleBeatScheduler
from workers.celery_app import create_celery


def test_only_one_holder_and_takeover_after_release(redis_client, token: str) -> None:  # type: ignore[no-untyped-def]
    key = f"aw-test-{token}:lock-a"
    first, second = BeatLock(redis_client, key), BeatLock(redis_client, key)
    assert first.hold() and first.hold()  # renewing keeps it
    assert not second.hold()
    first.release()
    assert second.hold() and not first.hold()
    second.release()


def test_a_dead_holder_is_replaced_when_its_ttl_runs_out(redis_client, token: str) -> None:  # type: ignore[no-untyped-def]
    key = f"aw-test-{token}:lock-b"
    dead, standby = BeatLock(redis_client, key, ttl=0.2), BeatLock(redis_client, key)
    assert dead.hold() and not standby.hold()
    time.sleep(0.3)
    assert standby.hold()
    standby.release()


def test_two_beat_schedulers_fire_from_one_only(settings: Settings, tmp_path: Path) -> None:
    beat_settings = replace(settings, namespace=f"{settings.namespace}-beat")
    app = create_celery(beat_settings)
    first = SingleBeatScheduler(app=app, schedule_filename=str(tmp_path / "one"))
    second = SingleBeatScheduler(app=app, schedule_filename=str(tmp_path / "two"))
    try:
        first.tick()
        assert second.tick() == LOCK_TTL_SECONDS / 3
        assert first.leading and not second.leading
        first.close()
        second.tick()
        assert second.leading
    finally:
        second.close()
        app.services.close()
