"""Delivery through faults, with real workers and the SendGrid stub: workers SIGKILLed over and
over mid-delivery, and a provider answering 429 and 500 for a while. Every mail arrives exactly
once, and the configured rate is never exceeded at the provider.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from actionwave.core.models import Delivery
from actionwave.delivery.mailing import MAIL_CHANNEL
from actionwave.platform.config import Settings
from actionwave.system.services import Services
from tests.delivery_support import add_mail_deliveries, mail_settings
from tests.stubs.sendgrid import SendGridStub, sendgrid_stub
from tests.support import wait_for

pytestmark = pytest.mark.faults

KILLS = 5
KILL_EVERY_SECONDS = 3.0
# A minute, as on the issue (FAULT_PROVIDER_OUTAGE_SECONDS for another length).
PROVIDER_OUTAGE_SECONDS = float(os.environ.get("FAULT_PROVIDER_OUTAGE_SECONDS", "60"))


@pytest.fixture
def stub() -> Iterator[SendGridStub]:
    with sendgrid_stub() as running:
        yield running


def count_by_state(services: Services) -> dict[str, int]:
    with services.session() as session:
        return dict(session.execute(select(Delivery.state, func.count())
                                    .group_by(Delivery.state)).all())


def drain(services: Services, settings: Settings, expected: int, timeout: float) -> None:
    """Kick the workers as beat would until ``expected`` deliveries are sent."""
    from workers import create_celery

    app = create_celery(settings)

    def all_sent() -> bool:
        app.send_task("actionwave.sweep_deliveries")
        return count_by_state(services).get("sent", 0) == expected

    try:
        wait_for(all_sent, timeout=timeout, interval=1.0, message="every delivery sent")
    except pytest.fail.Exception:
        pytest.fail(f"not all sent: {count_by_state(services)}")
    finally:
        app.close()


def test_workers_sigkilled_every_few_seconds_deliver_each_mail_exactly_once(
    committed_db: Services, campaign_slug: str, settings: Settings, stub: SendGridStub,
    start_worker,  # type: ignore[no-untyped-def]
) -> None:
    from workers import create_celery

    # 600 requests/min of up to 7 mails: about 30 s of sending, so the kills land mid-delivery.
    worker_settings = mail_settings(settings, stub, delivery_batch_size=10,
                                    delivery_lease_seconds=3.0, sendgrid_requests_per_minute=600)
    with committed_db.session() as session:
        keys = add_mail_deliveries(session, campaign_slug, 2000, category="action")
    app = create_celery(worker_settings)
    workers = [start_worker(worker_settings), start_worker(worker_settings)]
    for _ in range(2 * worker_settings.worker_concurrency):
        app.send_task("actionwave.deliver_due", args=(MAIL_CHANNEL,))
    app.close()
    kills = []
    for _ in range(KILLS):
        time.sleep(KILL_EVERY_SECONDS)
        oldest = workers.pop(0)
        oldest.kill()  # SIGKILL to the worker's process group: no chance to record anything
        kills.append(len(stub.state.counts))
        workers.append(start_worker(worker_settings))
    assert kills[-1] < len(keys), "delivery finished before the last kill"

    drain(committed_db, worker_settings, len(keys), timeout=90)
    counts = stub.counts
    assert sorted(counts) == sorted(keys)
    assert stub.duplicates() == 0, "a mail was sent twice"
    print(f"killed at {kills} of {len(keys)} accepted")


def test_provider_answering_429_and_500_for_a_while_gets_every_mail_later_within_the_rate(
    committed_db: Services, campaign_slug: str, settings: Settings, stub: SendGridStub,
    start_worker,  # type: ignore[no-untyped-def]
) -> None:
    from workers import create_celery

    per_second = 20
    # Product defaults for attempts (8) and backoff (5 s, doubling): an outage of a minute must
    # not use them up.
    worker_settings = mail_settings(
        settings, stub, sendgrid_requests_per_minute=per_second * 60, ratelimit_burst=1,
        delivery_backoff_seconds=5.0, delivery_max_attempts=8, delivery_lease_seconds=10.0)
    with committed_db.session() as session:
        keys = add_mail_deliveries(session, campaign_slug, 200)  # one request per mail
    stub.fail_for(PROVIDER_OUTAGE_SECONDS, (429, 500))
    start_worker(worker_settings)
    start_worker(worker_settings)
    app = create_celery(worker_settings)
    for _ in range(2 * worker_settings.worker_concurrency):
        app.send_task("actionwave.deliver_due", args=(MAIL_CHANNEL,))
    app.close()

    drain(committed_db, worker_settings, len(keys), timeout=PROVIDER_OUTAGE_SECONDS + 90)
    statuses = stub.state.statuses
    assert statuses[429] > 0 and statuses[500] > 0, statuses
    assert sorted(stub.counts) == sorted(keys) and stub.duplicates() == 0
    # A bucket of ``burst`` tokens refilled at the rate: at most rate + burst in any second.
    assert stub.max_requests_per_second() <= per_second + 1
    assert count_by_state(committed_db) == {"sent": len(keys)}
    print(f"statuses {dict(statuses)}; max {stub.max_requests_per_second()} requests/s")
