"""An hourly request budget for congress.gov, shared by every process through Redis when it has one.

congress.gov allows 5,000 requests an hour per key; every process that polls spends from the
same key, so the count lives in Redis (one counter per clock hour). Without Redis (the embedded
default runs one beat) an in-process counter is enough.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

import redis


class RequestBudget(Protocol):
    def take(self) -> float | None:
        """Spend one request. Returns None if allowed, else seconds until the budget refills."""
        ...


def _hour_window(now: float) -> tuple[int, float]:
    hour = int(now // 3600)
    return hour, (hour + 1) * 3600 - now


class LocalBudget:
    """Counts requests in this process, per clock hour. Thread-safe."""

    def __init__(self, per_hour: int) -> None:
        self.per_hour = per_hour
        self._lock = threading.Lock()
        self._hour = -1
        self._used = 0

    def take(self) -> float | None:
        hour, left = _hour_window(time.time())
        with self._lock:
            if hour != self._hour:
                self._hour, self._used = hour, 0
            if self._used >= self.per_hour:
                return left
            self._used += 1
            return None


class RedisBudget:
    """Counts requests in Redis under ``<prefix>:congress-budget:<hour>`` (expires after 2 h)."""

    def __init__(self, client: redis.Redis, prefix: str, per_hour: int) -> None:
        self.client = client
        self.prefix = prefix
        self.per_hour = per_hour

    def take(self) -> float | None:
        hour, left = _hour_window(time.time())
        key = f"{self.prefix}:congress-budget:{hour}"
        pipe = self.client.pipeline()
        pipe.incr(key)
        pipe.expire(key, 7200)
        used, _ = pipe.execute()
        return left if int(used) > self.per_hour else None
