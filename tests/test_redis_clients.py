"""One Redis client factory: a pool per URL and timeout, failing fast when Redis is down."""

from __future__ import annotations

import time

import pytest
import redis

from actionwave.platform.redis_clients import redis_client
from tests.conftest import REDIS_URL
from tests.support import free_port


def test_callers_of_one_url_share_one_pool() -> None:
    first, second = redis_client(REDIS_URL), redis_client(REDIS_URL)
    assert first.connection_pool is second.connection_pool
    assert redis_client(REDIS_URL, timeout=0.5).connection_pool is not first.connection_pool
    assert first.ping()


def test_a_redis_that_is_down_fails_the_call_at_once() -> None:
    client = redis_client(f"redis://127.0.0.1:{free_port()}/0", timeout=0.5)
    started = time.monotonic()
    with pytest.raises(redis.ConnectionError):
        client.ping()
    assert time.monotonic() - started < 2.0
