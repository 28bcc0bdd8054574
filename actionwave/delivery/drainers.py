"""How many task chains drain one channel at once: about ``limit``, however many ask.

A ``deliver_due`` task that leaves more due queues itself again: one *drainer*, a chain of runs
that ends when nothing is left. Every batch of resolved actions and every sweep asks for one.
Unbounded, a launch's hundreds of resolved batches started hundreds of drainers: each claimed a
sliver of the backlog and queued itself again, and each ended with a run that found nothing, so
the queue filled with redundant tasks, each a claim query, in front of the resolution work
(docs/performance.md).

A drainer holds a slot with an expiry, renewed at each of its runs and freed when it ends. A
drainer whose worker died loses its slot when the slot expires (a run waits in the queue, so the
expiry is generous); its task, redelivered, renews the slot. The slots live in Redis, shared by
every worker; on the embedded default (no Redis, one worker process) in the process.
"""

from __future__ import annotations

import secrets
import threading
import time
from typing import Protocol

import redis

from actionwave.config import Settings
from actionwave.redis_clients import redis_client

# KEYS: the channel's slots (a sorted set: drainer -> expiry in ms). ARGV: limit, ttl ms, drainer.
_START = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""
_RENEW = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
"""


class Drainers(Protocol):
    def start(self, channel: str) -> str | None:
        """A new drainer's id, or None when ``limit`` drainers hold slots already."""
        ...

    def renew(self, channel: str, drainer: str) -> None:
        """``drainer`` runs again: its slot's expiry starts over (it takes one back if lost)."""
        ...

    def end(self, channel: str, drainer: str) -> None: ...


def _new_id() -> str:
    return secrets.token_hex(6)


class RedisDrainers:
    def __init__(self, client: redis.Redis, namespace: str, limit: int,
                 ttl_seconds: float) -> None:
        self.client = client
        self.prefix = f"{namespace}:drainers:"
        self.limit = max(1, limit)
        self.ttl_ms = int(ttl_seconds * 1000)
        self._start = client.register_script(_START)
        self._renew = client.register_script(_RENEW)

    def start(self, channel: str) -> str | None:
        drainer = _new_id()
        taken = self._start(keys=[self.prefix + channel], args=[self.limit, self.ttl_ms, drainer])
        return drainer if taken else None

    def renew(self, channel: str, drainer: str) -> None:
        self._renew(keys=[self.prefix + channel], args=[self.ttl_ms, drainer])

    def end(self, channel: str, drainer: str) -> None:
        self.client.zrem(self.prefix + channel, drainer)


class LocalDrainers:
    """The same slots inside one process (embedded default, no Redis)."""

    def __init__(self, limit: int, ttl_seconds: float) -> None:
        self.limit = max(1, limit)
        self.ttl = ttl_seconds
        self.lock = threading.Lock()
        self.slots: dict[str, dict[str, float]] = {}

    def start(self, channel: str) -> str | None:
        now = time.monotonic()
        with self.lock:
            slots = self.slots.setdefault(channel, {})
            for drainer in [d for d, expiry in slots.items() if expiry <= now]:
                del slots[drainer]
            if len(slots) >= self.limit:
                return None
            drainer = _new_id()
            slots[drainer] = now + self.ttl
            return drainer

    def renew(self, channel: str, drainer: str) -> None:
        with self.lock:
            self.slots.setdefault(channel, {})[drainer] = time.monotonic() + self.ttl

    def end(self, channel: str, drainer: str) -> None:
        with self.lock:
            self.slots.get(channel, {}).pop(drainer, None)


def make_drainers(settings: Settings) -> Drainers:
    """Slots in Redis when ``REDIS_URL`` is set, else in the process. A slot outlives a lease:
    a run may wait that long in the queue."""
    ttl = 2 * settings.delivery_lease_seconds
    settings.require_redis("drainer slots")
    if settings.redis_url:
        return RedisDrainers(redis_client(settings.redis_url), settings.namespace,
                             settings.delivery_drainers, ttl)
    return LocalDrainers(settings.delivery_drainers, ttl)
