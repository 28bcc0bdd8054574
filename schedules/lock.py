"""One beat at a time across machines: beat fires only while it holds a Redis lock.

Every beat process runs ``SingleBeatScheduler``; the one holding ``<namespace>:beat-lock`` fires
the schedule and renews the lock on each tick, the others stand by and take over within
``LOCK_TTL_SECONDS`` if it dies. Without Redis (only the embedded default, which runs one local
beat) the scheduler behaves like Celery's own.
"""

from __future__ import annotations

import logging
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

import redis
from celery.beat import PersistentScheduler
from redis.exceptions import LockError
from redis.lock import Lock

from actionwave.platform.redis_clients import redis_client

log = logging.getLogger(__name__)

LOCK_TTL_SECONDS = 30
HEARTBEAT_FILE = "beat-heartbeat"  # touched on every tick, leading or standing by
HEARTBEAT_STALE_SECONDS = 3 * LOCK_TTL_SECONDS


class BeatLock:
    """redis-py's ``Lock`` with a TTL, taken without waiting and renewed on every tick; only the
    owner (its random token) renews or releases it."""

    def __init__(self, client: redis.Redis, key: str, ttl: float = LOCK_TTL_SECONDS) -> None:
        self.lock = Lock(client, key, timeout=ttl, blocking=False, thread_local=False)

    def hold(self) -> bool:
        """Renew the lock to a full TTL if we own it, else try to take it. True while we own it.
        Raises ``redis.RedisError`` when Redis does not answer."""
        try:
            return self.lock.reacquire()
        except LockError:  # never held, or lost (expired, taken by another beat)
            return self.lock.acquire()

    def release(self) -> None:
        with suppress(LockError):  # expired or taken over meanwhile: nothing of ours to release
            self.lock.release()


class SingleBeatScheduler(PersistentScheduler):
    """Celery's persistent scheduler, firing only while this process holds the beat lock."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = self.app.services.settings
        self.lock: BeatLock | None = None
        settings.require_redis("the beat lock")  # else every beat on every host would fire
        if settings.redis_url:
            self.lock = BeatLock(redis_client(settings.redis_url),
                                 f"{settings.namespace}:beat-lock")
        self.leading = False
        self.heartbeat = settings.instance_path / HEARTBEAT_FILE

    def tick(self, *args: Any, **kwargs: Any) -> float:
        try:
            self.heartbeat.touch()
        except OSError as exc:  # the healthcheck will say so; the schedule goes on
            log.warning("beat heartbeat not written: %s", exc)
        if self.lock is None:
            return super().tick(*args, **kwargs)
        try:
            leading = self.lock.hold()
        except redis.RedisError as exc:  # cannot prove we lead: fire nothing
            log.warning("beat lock unavailable, standing by: %s", exc)
            leading = False
        if leading != self.leading:
            log.info("this beat %s", "now fires the schedule" if leading else "stands by")
            self.leading = leading
        renew_every = LOCK_TTL_SECONDS / 3
        if not leading:
            return renew_every
        return min(super().tick(*args, **kwargs), renew_every)

    def close(self) -> None:
        if self.lock is not None and self.leading:
            self.lock.release()
        super().close()


def beat_alive(instance_path: Path, now: float | None = None) -> bool:
    """True when this host's beat ticked lately (its healthcheck, ``actionwave health beat``)."""
    try:
        age = (now or time.time()) - (instance_path / HEARTBEAT_FILE).stat().st_mtime
    except OSError:
        return False
    return age < HEARTBEAT_STALE_SECONDS
