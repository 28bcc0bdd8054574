"""Deliveries drain on a Celery queue per channel (workers.queues), bounded by the concurrency of
the workers consuming it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import pytest

from actionwave.delivery.cwc_sending import CWC_CHANNEL
from actionwave.delivery.mailing import MAIL_CHANNEL
from actionwave.platform.config import Settings
from actionwave.system.services import Services
from tests.delivery_support import add_mail_deliveries, mail_settings, states_of
from tests.stubs.sendgrid import SendGridStub, sendgrid_stub
from tests.support import wait_for
from workers.queues import DELIVERY_CHANNELS, delivery_queue, queue_names

RUNS = re.compile(r"deliver_due\[[^\]]+\] succeeded")


def test_deliver_due_is_routed_to_its_channels_queue(settings: Settings) -> None:
    from workers import create_celery

    app = create_celery(settings)
    route = app.amqp.router.route
    for channel in DELIVERY_CHANNELS:
        queue = route({}, "actionwave.deliver_due", (channel,), {})["queue"]
        assert queue.name == delivery_queue(settings.namespace, channel)
    assert route({}, "actionwave.resolve_action", ("x",), {})["queue"].name == settings.namespace
    app.services.close()  # type: ignore[attr-defined]
    app.close()


def test_queue_names_default_to_all_and_refuse_unknown_names() -> None:
    assert queue_names("aw") == ["aw", *(delivery_queue("aw", c) for c in DELIVERY_CHANNELS)]
    assert queue_names("aw", ["default", CWC_CHANNEL]) == ["aw", "aw.deliver.cwc"]
    with pytest.raises(ValueError, match="unknown queue sms"):
        queue_names("aw", ["email", "sms"])


@pytest.fixture
def stub() -> Iterator[SendGridStub]:
    with sendgrid_stub() as running:
        yield running


def test_a_launch_of_kicks_drains_on_a_worker_of_the_channels_queue_each_mail_once(
    committed_db: Services, campaign_slug: str, settings: Settings, stub: SendGridStub,
    start_worker,  # type: ignore[no-untyped-def]
) -> None:
    """Sixty resolved batches each queue a run of the mail channel; a worker consuming only that
    queue, three at a time, sends every mail once."""
    from tasks.delivery import start_draining
    from workers import create_celery

    mailing = mail_settings(settings, stub, delivery_batch_size=5,
                            namespace=f"{settings.namespace}-drain")
    with committed_db.session() as session:
        keys = add_mail_deliveries(session, campaign_slug, 60)  # one request per mail
    worker = start_worker(mailing, args=("--queues", MAIL_CHANNEL, "--concurrency", "3"))
    app = create_celery(mailing)
    services = app.services  # type: ignore[attr-defined]
    assert sum(start_draining(services, MAIL_CHANNEL) for _ in range(60)) == 60

    def all_sent() -> bool:
        with committed_db.session() as session:
            return set(states_of(session, keys).values()) == {"sent"}

    wait_for(all_sent, timeout=60, interval=0.2, message="every delivery sent")
    wait_for(lambda: len(RUNS.findall(worker.log_path.read_text())) >= 60, timeout=30,
             message="every queued run ran")
    assert stub.counts == dict.fromkeys(keys, 1)
    services.close()
    app.close()


def test_no_more_runs_wait_on_a_channels_queue_than_the_cap(settings: Settings) -> None:
    """With nobody consuming yet (a launch before the workers catch up), asking for runs again
    and again leaves MAX_WAITING_RUNS waiting on the channel's queue, not one per ask."""
    import redis

    from tasks.delivery import MAX_WAITING_RUNS, start_draining
    from workers import create_celery

    own = replace(settings, namespace=f"{settings.namespace}-cap")
    app = create_celery(own)
    services = app.services  # type: ignore[attr-defined]
    queue = delivery_queue(own.namespace, MAIL_CHANNEL)
    broker = redis.Redis.from_url(own.broker_url)
    try:
        assert start_draining(services, MAIL_CHANNEL, wanted=MAX_WAITING_RUNS + 36) \
            == MAX_WAITING_RUNS
        assert sum(start_draining(services, MAIL_CHANNEL) for _ in range(20)) == 0
        assert broker.llen(queue) == MAX_WAITING_RUNS
    finally:
        broker.delete(queue)
        services.close()
        app.close()
