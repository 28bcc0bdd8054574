"""Global rate limits: one token bucket per provider and per recipient office.

The bucket lives in Redis and is updated by one Lua script using Redis's own clock, so every worker
process on every machine draws from the same bucket (Celery's ``rate_limit`` is per worker and is
not enough). A provider that answers 429 can ``pause`` its bucket for everyone. On the embedded
default (no Redis) an in-process bucket stands in: there is one worker process there.

Buckets hold at most ``burst`` tokens, so in any one-second window at most ``rate + burst``
requests are let through.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Protocol

import redis

from actionwave.platform.config import Settings
from actionwave.platform.redis_clients import redis_client

# KEYS: bucket, pause, for each bucket. ARGV: tokens per second, burst, cost, key ttl ms, for each.
# Returns for each bucket "0" when the tokens were taken, else the seconds to wait (nothing taken).
_TAKE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local waits = {}
for b = 1, #KEYS / 2 do
  local bucket, pause, arg = KEYS[2 * b - 1], KEYS[2 * b], 4 * (b - 1)
  local paused = redis.call('PTTL', pause)
  if paused > 0 then
    waits[b] = tostring(paused / 1000)
  else
    local rate = tonumber(ARGV[arg + 1])
    local burst = tonumber(ARGV[arg + 2])
    local cost = tonumber(ARGV[arg + 3])
    local state = redis.call('HMGET', bucket, 'tokens', 'at')
    local tokens = tonumber(state[1]) or burst
    local at = tonumber(state[2]) or now
    tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
    local wait = 0
    if tokens >= cost then tokens = tokens - cost else wait = (cost - tokens) / rate end
    redis.call('HSET', bucket, 'tokens', tostring(tokens), 'at', tostring(now))
    redis.call('PEXPIRE', bucket, ARGV[arg + 4])
    waits[b] = tostring(wait)
  end
end
return waits
"""


class RateLimiter(Protocol):
    def take(self, bucket: str, per_minute: float, cost: int = 1,
             burst: int | None = None) -> float:
        """Take ``cost`` tokens from ``bucket`` if it has them. Returns 0.0 when taken, else the
        seconds until they would be there (nothing is taken). ``per_minute`` <= 0: no limit,
        but a pause still holds. ``burst`` (default: the limiter's) caps the bucket."""
        ...

    def pause(self, bucket: str, seconds: float) -> None:
        """Let nothing through ``bucket`` for ``seconds`` (a provider said Retry-After)."""
        ...

    def take_each(self, requests: Sequence[tuple[str, float, int]]) -> list[float]:
        """``take(bucket, per_minute, burst=burst)`` for each request, in one round trip where
        the store allows; returns each wait."""
        ...


class RedisRateLimiter:
    """Buckets shared by every process that uses the same Redis and ``namespace``."""

    def __init__(self, client: redis.Redis, namespace: str, burst: int = 1) -> None:
        self.client = client
        self.prefix = f"{namespace}:ratelimit:"
        self.burst = max(1, burst)
        self.script = client.register_script(_TAKE)

    def take(self, bucket: str, per_minute: float, cost: int = 1,
             burst: int | None = None) -> float:
        if per_minute <= 0:
            paused_ms = self.client.pttl(self.prefix + bucket + ":pause")
            return paused_ms / 1000 if paused_ms > 0 else 0.0
        [wait] = self._take([(bucket, per_minute, max(burst or self.burst, cost), cost)])
        return wait

    def take_each(self, requests: Sequence[tuple[str, float, int]]) -> list[float]:
        return self._take([(bucket, rate, burst, 1) for bucket, rate, burst in requests])

    def _take(self, requests: Sequence[tuple[str, float, int, int]]) -> list[float]:
        """One script call (one round trip) for every bucket."""
        keys: list[str] = []
        args: list[float | int] = []
        for bucket, per_minute, burst, cost in requests:
            rate = per_minute / 60.0
            keys += [self.prefix + bucket, self.prefix + bucket + ":pause"]
            args += [rate, burst, cost, int(1000 * (burst / rate + 60))]
        if not keys:
            return []
        return [float(wait) for wait in self.script(keys=keys, args=args)]

    def pause(self, bucket: str, seconds: float) -> None:
        if seconds > 0:
            key = self.prefix + bucket + ":pause"
            self.client.set(key, "1", px=max(1, int(seconds * 1000)))


class LocalRateLimiter:
    """The same buckets inside one process (embedded default, no Redis)."""

    def __init__(self, burst: int = 1) -> None:
        self.burst = max(1, burst)
        self.lock = threading.Lock()
        self.buckets: dict[str, tuple[float, float]] = {}
        self.paused_until: dict[str, float] = {}

    def take(self, bucket: str, per_minute: float, cost: int = 1,
             burst: int | None = None) -> float:
        rate = per_minute / 60.0
        burst = max(burst or self.burst, cost)
        with self.lock:
            now = time.monotonic()
            paused = self.paused_until.get(bucket, 0.0) - now
            if paused > 0:
                return paused
            if rate <= 0:
                return 0.0
            tokens, at = self.buckets.get(bucket, (burst, now))
            tokens = min(burst, tokens + (now - at) * rate)
            wait = 0.0
            if tokens >= cost:
                tokens -= cost
            else:
                wait = (cost - tokens) / rate
            self.buckets[bucket] = (tokens, now)
            return wait

    def take_each(self, requests: Sequence[tuple[str, float, int]]) -> list[float]:
        return [self.take(bucket, per_minute, burst=burst)
                for bucket, per_minute, burst in requests]

    def pause(self, bucket: str, seconds: float) -> None:
        with self.lock:
            until = time.monotonic() + seconds
            self.paused_until[bucket] = max(until, self.paused_until.get(bucket, 0.0))


def make_rate_limiter(settings: Settings, timeout: float = 5.0) -> RateLimiter:
    """Redis buckets when ``REDIS_URL`` is set, else in-process ones (embedded default only).

    ``timeout`` bounds each Redis call; the web's abuse limits use a short one.
    """
    settings.require_redis("rate limits")
    if settings.redis_url:
        return RedisRateLimiter(redis_client(settings.redis_url, timeout), settings.namespace,
                                settings.ratelimit_burst)
    return LocalRateLimiter(settings.ratelimit_burst)
