"""Global token buckets: one limit for every worker process that shares a Redis."""

from __future__ import annotations

import re
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis
from sqlalchemy import func, select

from actionwave.core.models import Delivery
from actionwave.delivery.mailing import MAIL_CHANNEL
from actionwave.platform.config import Settings
from actionwave.platform.ratelimit import LocalRateLimiter, RedisRateLimiter
from actionwave.system.services import Services
from tests.delivery_support import add_mail_deliveries, mail_settings
from tests.stubs.sendgrid import SendGridStub, sendgrid_stub
from tests.support import wait_for

SENT_SOME = re.compile(r"deliver_due\[[^\]]+\] succeeded in [\d.]+s: [1-9]")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def own_redis() -> Iterator[str]:
    """A redis-server of this test's own, stopped afterwards."""
    port = _free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no",
         "--daemonize", "no"], stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    wait_for(lambda: _pings(client), timeout=10, message="redis-server up")
    client.close()
    yield url
    process.terminate()
    process.wait(timeout=10)


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


@pytest.fixture
def stub() -> Iterator[SendGridStub]:
    with sendgrid_stub() as running:
        yield running


def test_bucket_lets_a_burst_through_then_says_how_long_to_wait(redis_client: redis.Redis,
                                                                 token: str) -> None:
    for limiter in (LocalRateLimiter(burst=2),
                    RedisRateLimiter(redis_client, f"aw-test-{token}-bucket", burst=2)):
        assert limiter.take("sendgrid", per_minute=60) == 0.0
        assert limiter.take("sendgrid", per_minute=60) == 0.0
        wait = limiter.take("sendgrid", per_minute=60)
        assert 0.9 < wait <= 1.0
        assert limiter.take("other-office", per_minute=60) == 0.0


def test_pause_holds_even_an_unlimited_bucket(redis_client: redis.Redis, token: str) -> None:
    for limiter in (LocalRateLimiter(),
                    RedisRateLimiter(redis_client, f"aw-test-{token}-pause")):
        limiter.pause("sendgrid", 2)
        assert 1.5 < limiter.take("sendgrid", per_minute=0) <= 2
        assert limiter.take("sendgrid", per_minute=600) > 1.5


def max_in_any_second(times: list[float]) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


@pytest.mark.faults
def test_two_workers_together_stay_within_the_global_limit(
    committed_db: Services, campaign_slug: str, settings: Settings, stub: SendGridStub,
    own_redis: str, start_worker,  # type: ignore[no-untyped-def]
) -> None:
    from workers import create_celery

    per_second = 20
    limited = mail_settings(settings, stub, broker_url=own_redis, redis_url=own_redis,
                            sendgrid_requests_per_minute=per_second * 60,
                            delivery_lease_seconds=30.0, delivery_batch_size=5)
    with committed_db.session() as session:
        keys = add_mail_deliveries(session, campaign_slug, 100)  # one request per mail
    workers = [start_worker(limited), start_worker(limited)]
    app = create_celery(limited)
    started = time.time()
    for _ in range(2 * limited.worker_concurrency):
        app.send_task("actionwave.deliver_due", args=(MAIL_CHANNEL,))

    def all_sent() -> bool:
        with committed_db.session() as session:
            sent = session.scalar(select(func.count()).where(Delivery.state == "sent"))
        if sent < len(keys):
            app.send_task("actionwave.sweep_deliveries")
        return sent == len(keys)

    wait_for(all_sent, timeout=60, interval=0.5, message="every delivery sent")
    elapsed = time.time() - started
    request_times = {a.message_id: a.at for a in stub.accepted}
    assert len(request_times) == len(keys)
    assert max_in_any_second(list(request_times.values())) <= per_second + 1
    assert elapsed >= (len(keys) - 1) / per_second - 0.5
    for worker in workers:  # both sent some, or the test would prove nothing
        assert SENT_SOME.search(worker.log_path.read_text())
    app.close()
