"""The one way to a Redis client: a connection pool per URL and timeout, shared in the process.

Callers ask ``redis_client(url, timeout)`` each time they need Redis and keep nothing of their
own; the pool keeps the connections. A pooled connection that a restarted Redis dropped is
replaced once, at once; a Redis that stays down fails the call within about twice ``timeout``
(redis-py's default would retry ten times with backoff, far longer than a health check or a
rate-limit decision can wait). Pools are built on first use, never at import, and redis-py
starts a fresh one in a forked child.
"""

from __future__ import annotations

import threading

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

_pools: dict[tuple[str, float], redis.ConnectionPool] = {}
_lock = threading.Lock()


def redis_client(url: str, timeout: float = 5.0) -> redis.Redis:
    """A client on the process's pool for ``url``; each connect and each reply waits at most
    ``timeout`` seconds. Raises ``redis.RedisError`` from the calls made on it, not here."""
    key = (url, timeout)
    with _lock:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = redis.ConnectionPool.from_url(
                url, socket_timeout=timeout, socket_connect_timeout=timeout,
                retry=Retry(NoBackoff(), 1))
    return redis.Redis(connection_pool=pool)
