"""Drainers (actionwave.delivery.drainers): a bounded number of task chains per channel."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
import redis

from actionwave.config import Settings
from actionwave.delivery.drainers import Drainers, LocalDrainers, RedisDrainers
from actionwave.delivery.mailing import MAIL_CHANNEL
from actionwave.services import Services
from tests.delivery_support import add_mail_deliveries, mail_settings, states_of
from tests.stubs.sendgrid import SendGridStub, sendgrid_stub
from tests.support import wait_for

SENT_NOTHING = re.compile(r"deliver_due\[[^\]]+\] succeeded in [\d.e-]+s: 0\b")
RUNS = re.compile(r"deliver_due\[[^\]]+\] succeeded")


@pytest.fixture(params=["redis", "local"])
def make_drainers(request: pytest.FixtureRequest,
                  redis_client: redis.Redis) -> Iterator[type[Drainers]]:
    namespace = f"aw-drainers-{secrets.token_hex(3)}"

    def make(limit: int, ttl_seconds: float) -> Drainers:
        if request.param == "redis":
            return RedisDrainers(redis_client, namespace, limit, ttl_seconds)
        return LocalDrainers(limit, ttl_seconds)

    yield make  # type: ignore[misc]
    for key in redis_client.scan_iter(f"{namespace}:*"):
        redis_client.delete(key)


def test_no_more_than_the_limit_drain_a_channel_at_once(make_drainers) -> None:  # type: ignore[no-untyped-def]
    drainers = make_drainers(2, 60)
    first, second = drainers.start("email"), drainers.start("email")
    assert first and second and first != second
    assert drainers.start("email") is None
    assert drainers.start("cwc") is not None  # each channel has its own slots
    drainers.end("email", first)
    assert drainers.start("email") is not None


def test_a_slot_not_renewed_expires(make_drainers) -> None:  # type: ignore[no-untyped-def]
    """A drainer whose worker died frees its slot; one that keeps running keeps it."""
    drainers = make_drainers(2, 0.3)
    alive, dead = drainers.start("email"), drainers.start("email")
    assert alive and dead
    for _ in range(3):
        time.sleep(0.15)
        drainers.renew("email", alive)
    assert drainers.start("email") is not None  # the dead one's slot
    assert drainers.start("email") is None  # the living one still holds its own


@pytest.fixture
def stub() -> Iterator[SendGridStub]:
    with sendgrid_stub() as running:
        yield running


def test_a_launch_of_kicks_starts_only_the_limit_and_sends_each_mail_once(
    committed_db: Services, campaign_slug: str, settings: Settings, stub: SendGridStub,
    start_worker,  # type: ignore[no-untyped-def]
) -> None:
    """Sixty resolved batches each ask for a drainer: three drain, each ends with at most one
    run that finds nothing (unbounded: one chain per batch, as many empty runs at the end)."""
    from tasks.delivery import start_draining
    from workers import create_celery

    mailing = mail_settings(settings, stub, delivery_batch_size=5, delivery_drainers=3,
                            namespace=f"{settings.namespace}-drain")
    with committed_db.session() as session:
        keys = add_mail_deliveries(session, campaign_slug, 60)  # one request per mail
    worker = start_worker(mailing)
    app = create_celery(mailing)
    services = app.services  # type: ignore[attr-defined]
    started = [start_draining(services, MAIL_CHANNEL) for _ in range(60)]
    assert sum(started) == 3

    def all_sent() -> bool:
        with committed_db.session() as session:
            return set(states_of(session, keys).values()) == {"sent"}

    wait_for(all_sent, timeout=60, interval=0.2, message="every delivery sent")
    wait_for(lambda: len(SENT_NOTHING.findall(worker.log_path.read_text())) == 3, timeout=10,
             message="each drainer ended")
    log = worker.log_path.read_text()
    assert len(RUNS.findall(log)) == 60 // 5 + 3  # a run per batch, and each drainer's last
    assert stub.counts == dict.fromkeys(keys, 1)
    assert services.drainers.start(MAIL_CHANNEL) is not None  # all slots freed
    services.close()
    app.close()


def test_embedded_default_drains_with_slots_in_the_process(settings: Settings) -> None:
    from actionwave.delivery.drainers import make_drainers

    embedded = replace(settings, redis_url="",
                       database_url=f"sqlite:///{settings.instance_path / 'embedded.db'}")
    assert isinstance(make_drainers(embedded), LocalDrainers)
    assert isinstance(make_drainers(settings), RedisDrainers)
