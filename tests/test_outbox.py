"""The outbox: relayed to a real broker and worker, and nothing lost while Redis is down."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from actionwave.core.models import Action, OutboxMessage
from actionwave.intake.outbox import relay_outbox, requeue_stalled_actions
from actionwave.intake.submissions import parse_action_form, submit_action
from actionwave.platform.config import Settings
from actionwave.system.services import Services
from tests.support import RedisServer, wait_for

VALID = {"email": "lam@example.org", "first_name": "Lam", "last_name": "Ho", "zip": "10001"}


def status_of(services: Services, action_id: str) -> str:
    with services.session() as session:
        return session.scalar(select(Action.status).where(Action.id == action_id))


def outbox_size(services: Services) -> int:
    with services.session() as session:
        return session.scalar(select(func.count()).select_from(OutboxMessage)) or 0


def test_relay_publishes_in_batches_and_deletes(services: Services, campaign_slug: str,
                                                committed_db: Services):
    with services.session() as session:
        for n in range(5):
            form = parse_action_form({**VALID, "email": f"r{n}@example.org"})
            submit_action(session, campaign_slug, form)
    published: list[tuple[str, list[str]]] = []
    assert relay_outbox(services.session_factory, lambda t, refs: published.append((t, refs))) == 5
    assert [(topic, len(refs)) for topic, refs in published] == [("action.accepted", 5)]
    assert outbox_size(services) == 0


def test_failed_publish_keeps_the_messages(services: Services, campaign_slug: str,
                                           committed_db: Services):
    with services.session() as session:
        submit_action(session, campaign_slug, parse_action_form(VALID))

    def broker_down(topic: str, refs: list[str]) -> None:
        raise ConnectionError("broker down")

    with pytest.raises(ConnectionError):
        relay_outbox(services.session_factory, broker_down)
    assert outbox_size(services) == 1


def test_stalled_actions_are_queued_again(services: Services, campaign_slug: str,
                                          committed_db: Services):
    with services.session() as session:
        submitted = submit_action(session, campaign_slug, parse_action_form(VALID))
        relay_outbox(services.session_factory, lambda t, refs: None)  # relayed, then "lost"
        later = datetime.now(UTC) + timedelta(minutes=5)
        assert requeue_stalled_actions(session, timedelta(minutes=2), now=later) == 1
        assert requeue_stalled_actions(session, timedelta(minutes=2), now=later) == 0
    assert outbox_size(services) == 1
    assert status_of(services, submitted.action_id) == "accepted"


def test_a_starting_worker_queues_again_what_was_lost_before_it(
        worker_store: Services, start_worker) -> None:  # type: ignore[no-untyped-def]
    """An action relayed, then lost with a broker that restarted empty, long ago: the relay of
    the next worker to start queues it again at once, not half a STALLED_AFTER later."""
    with worker_store.session() as session:
        submitted = submit_action(session, "hketo-certification-act", parse_action_form(VALID))
        relay_outbox(worker_store.session_factory, lambda t, refs: None)  # relayed, "lost"
        session.execute(update(Action).where(Action.id == submitted.action_id)
                        .values(updated_at=datetime.now(UTC) - timedelta(minutes=10)))
        session.commit()
    started = time.monotonic()
    start_worker(worker_store.settings)
    wait_for(lambda: status_of(worker_store, submitted.action_id) != "accepted", timeout=30,
             message="the starting worker to queue the lost action again")
    assert time.monotonic() - started < 30


def test_submission_reaches_a_real_worker_on_postgres_and_redis(client, campaign_slug: str,
                                                                committed_db, start_worker):
    start_worker()
    body = client.post(f"/api/v1/campaigns/{campaign_slug}/actions", json=VALID).get_json()
    wait_for(lambda: client.get(body["status_url"]).get_json()["status"] != "accepted",
             message="the worker to resolve the action")
    assert outbox_size(committed_db) == 0


@pytest.mark.faults
def test_submissions_survive_a_redis_outage(client, campaign_slug: str, committed_db,
                                            settings: Settings, private_redis: RedisServer,
                                            start_worker):
    worker_settings = replace(settings, broker_url=private_redis.url, redis_url=private_redis.url)
    start_worker(worker_settings)
    private_redis.stop()
    waiting = outbox_size(committed_db)  # rows an earlier test left for nobody to relay
    accepted = []
    for n in range(20):
        response = client.post(f"/api/v1/campaigns/{campaign_slug}/actions",
                               json={**VALID, "email": f"outage{n}@example.org"})
        assert response.status_code == 202
        accepted.append(response.get_json()["id"])
    time.sleep(1.5)  # the relay tries, fails, and keeps the rows
    assert all(status_of(committed_db, a) == "accepted" for a in accepted)
    assert outbox_size(committed_db) == waiting + 20
    private_redis.start()
    wait_for(lambda: all(status_of(committed_db, a) != "accepted" for a in accepted),
             timeout=60, message="the backlog to drain after Redis returned")
    # Messages leave the outbox once a second old (actionwave.intake.surge), maybe after the actions
    # were resolved through the relay's requeue of what waited during the outage.
    wait_for(lambda: outbox_size(committed_db) == 0, timeout=10, message="the outbox to empty")
