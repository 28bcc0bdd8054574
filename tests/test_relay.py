"""The outbox relay under a Redis outage in the middle of a launch: the intake keeps answering
202, nothing answered is lost, and the backlog drains once Redis is back.

A private redis-server is stopped and started; the shared Redis on 6379 is never touched.
"""

from __future__ import annotations

import http.client
import json
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from actionwave.core.models import Action, Delivery
from actionwave.platform.config import Settings
from actionwave.system.services import Services
from tests.delivery_support import mail_settings
from tests.stubs.sendgrid import SendGridStub, sendgrid_stub
from tests.support import RedisServer, wait_for
from workers.relay import STALLED_AFTER

OUTAGE_SECONDS = 20
SUBMITTERS = 4
PAUSE_SECONDS = 0.05  # per submitter between requests: a steady stream, not a flood


@dataclass
class Load:
    """Submitters posting actions through a live server until stopped; records every answer."""

    port: int
    statuses: Counter[int] = field(default_factory=Counter)
    ids: list[str] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def submit_until_stopped(self, submitter: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        n = 0
        while not self.stopping.is_set():
            body = json.dumps({"email": f"load{submitter}-{n}@example.org", "first_name": "Kit",
                               "last_name": "Wong", "zip": "60601"})
            connection.request("POST", "/api/v1/campaigns/hketo-certification-act/actions",
                               body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            answer = json.loads(response.read())
            with self.lock:
                self.statuses[response.status] += 1
                if response.status == 202:
                    self.ids.append(answer["id"])
            n += 1
            time.sleep(PAUSE_SECONDS)
        connection.close()

    def accepted(self) -> int:
        with self.lock:
            return len(self.ids)


@pytest.fixture
def stub() -> Iterator[SendGridStub]:
    with sendgrid_stub() as running:
        yield running


@pytest.fixture
def private_settings(settings: Settings, private_redis: RedisServer,
                     stub: SendGridStub) -> Settings:
    # The abuse limits are on (they share the same Redis) with room for the load: they must let
    # supporters through while Redis is down.
    return mail_settings(replace(settings, broker_url=private_redis.url,
                                 redis_url=private_redis.url,
                                 rate_limit_per_ip="1000000/minute",
                                 rate_limit_per_email="100/hour"), stub)


@pytest.fixture
def live_port(private_settings: Settings) -> Iterator[int]:
    from web import create_app

    services = Services(private_settings)
    server = make_server("127.0.0.1", 0, create_app(private_settings, services), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    server.server_close()
    services.close()


def delivery_states(services: Services, keys: list[str]) -> list[tuple[str, int, str | None]]:
    """State, attempts and last error of the deliveries with these idempotency keys."""
    with services.session() as session:
        rows = session.execute(select(Delivery.state, Delivery.attempts, Delivery.last_error)
                               .where(Delivery.idempotency_key.in_(keys))).all()
    return [tuple(row) for row in rows]


def stored_ids(services: Services) -> set[str]:
    with services.session() as session:
        return {str(i) for i in session.scalars(select(Action.id))}


def unresolved(services: Services) -> int:
    with services.session() as session:
        return len(session.scalars(select(Action.id).where(Action.status == "accepted")).all())


@pytest.mark.faults
def test_redis_down_for_20_s_under_load_loses_nothing_and_the_backlog_drains(
    committed_db: Services, campaign_slug: str, private_settings: Settings,
    private_redis: RedisServer, stub: SendGridStub, live_port: int,
    start_worker,  # type: ignore[no-untyped-def]
) -> None:
    from workers import create_celery

    worker = start_worker(private_settings)
    load = Load(live_port)
    submitters = [threading.Thread(target=load.submit_until_stopped, args=(n,))
                  for n in range(SUBMITTERS)]
    for submitter in submitters:
        submitter.start()
    wait_for(lambda: stub.state.counts, timeout=30, message="mail flowing before the outage")

    private_redis.stop()
    before_outage = load.accepted()
    # Workers can die on a broker outage (kombu trips restoring unacked messages): kill the
    # worker outright; compose's ``restart:`` starts a new one, as the test does here.
    worker.kill(signal.SIGKILL)
    time.sleep(OUTAGE_SECONDS)
    during_outage = load.accepted() - before_outage
    private_redis.start()
    start_worker(private_settings)
    time.sleep(2)
    load.stopping.set()
    for submitter in submitters:
        submitter.join(timeout=15)

    assert set(load.statuses) == {202}, load.statuses
    assert during_outage > 100, "the intake stalled while Redis was down"
    assert stored_ids(committed_db) == set(load.ids)  # every 202 is a row, and nothing else

    app = create_celery(private_settings)
    expected = {f"confirmation:{action_id}" for action_id in load.ids}

    def drained() -> bool:
        app.send_task("actionwave.sweep_deliveries")  # what beat does every few seconds
        return unresolved(committed_db) == 0 and expected <= set(stub.state.counts)

    # Actions the killed worker published just before Redis went down are gone with it (it
    # restarts empty): the new worker's relay never saw the outage, so its sweep queues them
    # again once they are STALLED_AFTER old (it sweeps at start, then every half of that): the
    # worst case.
    drain_timeout = 60 + STALLED_AFTER.total_seconds() * 1.5
    try:
        wait_for(drained, timeout=drain_timeout, interval=1.0, message="the backlog to drain")
    except pytest.fail.Exception:
        missing = sorted(expected - set(stub.state.counts))
        pytest.fail(f"not drained: {unresolved(committed_db)} unresolved, {len(missing)} mails "
                    f"missing: {delivery_states(committed_db, missing)}")
    app.close()
    counts = stub.counts
    assert {key for key in counts if key.startswith("confirmation:")} == expected
    assert stub.duplicates() == 0
    print(f"accepted {len(load.ids)} ({during_outage} while Redis was down), all delivered once")
