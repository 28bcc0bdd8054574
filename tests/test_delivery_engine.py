"""The delivery engine against PostgreSQL and the real SendGrid mailer on the SendGrid stub."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, select, update

from actionwave.core.models import Delivery
from actionwave.delivery.claims import claim_due_deliveries
from actionwave.delivery.engine import deliver_due
from actionwave.delivery.mailing import MAIL_CHANNEL, MailSender
from actionwave.delivery.policy import DeliveryPolicy
from actionwave.delivery.recovery import expire_leases, retry_dead
from actionwave.delivery.states import IllegalTransition, move
from actionwave.mail.sendgrid_mailer import SendGridMailer
from actionwave.platform.config import Settings
from actionwave.platform.ratelimit import LocalRateLimiter
from actionwave.system.services import Services
from tests.delivery_support import add_mail_deliveries, mail_settings, states_of
from tests.stubs.sendgrid import SendGridStub, sendgrid_stub


@pytest.fixture
def stub() -> Iterator[SendGridStub]:
    with sendgrid_stub() as running:
        yield running


def run_once(services: Services, settings: Settings, worker: str = "w1"):  # type: ignore[no-untyped-def]
    sender = MailSender(SendGridMailer(settings))
    return deliver_due(services.session_factory, MAIL_CHANNEL, sender, LocalRateLimiter(),
                       DeliveryPolicy.from_settings(settings), worker, sleep=lambda _: None)


def test_sent_and_failed_are_final_states() -> None:
    with pytest.raises(IllegalTransition):
        move("sent", "pending")
    with pytest.raises(IllegalTransition):
        move("failed", "sending")


def test_backoff_waits_at_least_half_its_ceiling_so_attempts_outlast_an_outage() -> None:
    policy = DeliveryPolicy()  # the product's defaults: 5 s doubling, 8 attempts
    for attempts in range(1, 9):
        ceiling = policy.backoff_seconds * 2 ** (attempts - 1)
        delays = [policy.retry_delay(attempts, None) for _ in range(200)]
        assert ceiling / 2 <= min(delays) and max(delays) <= ceiling
    shortest = sum(policy.backoff_seconds * 2 ** (a - 1) / 2 for a in range(1, policy.max_attempts))
    assert shortest > 300  # seven waits: a delivery outlasts five minutes of 5xx answers
    assert policy.retry_delay(1, after=120.0) == 120.0  # the provider's Retry-After wins


def test_concurrent_claims_get_disjoint_rows_with_a_lease(
    committed_db: Services, campaign_slug: str
) -> None:
    with committed_db.session() as session:
        add_mail_deliveries(session, campaign_slug, 10)
    with committed_db.session() as one, committed_db.session() as two:
        first = claim_due_deliveries(one, MAIL_CHANNEL, 6, "w1", 60)
        second = claim_due_deliveries(two, MAIL_CHANNEL, 6, "w2", 60)
    assert len(first) == 6 and len(second) == 4
    assert not {c.id for c in first} & {c.id for c in second}
    with committed_db.session() as session:
        rows = session.scalars(select(Delivery)).all()
    assert {r.state for r in rows} == {"sending"}
    assert all(r.lease_expires_at and r.lease_expires_at > datetime.now(UTC) for r in rows)
    assert all(r.attempts == 1 for r in rows)


def test_same_shape_mail_goes_out_in_one_request_and_is_recorded_sent(
    committed_db: Services, campaign_slug: str, settings: Settings, stub: SendGridStub
) -> None:
    with committed_db.session() as session:
        keys = add_mail_deliveries(session, campaign_slug, 50, category="action")
    result = run_once(committed_db, mail_settings(settings, stub))
    assert result.sent == 50
    assert stub.statuses[202] == 1
    assert sorted(a.key for a in stub.accepted) == sorted(keys)
    with committed_db.session() as session:
        assert set(states_of(session, keys).values()) == {"sent"}
        provider_ids = session.scalars(select(Delivery.provider_id)).all()
    assert len(set(provider_ids)) == 1 and provider_ids[0].startswith("stub")


def test_a_delivery_sent_at_once_is_written_twice_claimed_and_sent(
    committed_db: Services, campaign_slug: str, settings: Settings, stub: SendGridStub
) -> None:
    """No lease renewal while the claim's lease is young: nothing can have taken the rows."""
    with committed_db.session() as session:
        add_mail_deliveries(session, campaign_slug, 3)
    updates: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if "UPDATE deliveries SET" in statement:
            updates.append(statement.split(" SET ")[1][:40])

    event.listen(committed_db.engine, "before_cursor_execute", count)
    try:
        result = run_once(committed_db, mail_settings(settings, stub))
    finally:
        event.remove(committed_db.engine, "before_cursor_execute", count)
    assert result.sent == 3
    assert len(updates) == 2, updates  # the claim, then the outcomes (three rows in each)


def test_429_postpones_without_using_a_try_honouring_retry_after_and_pausing_the_provider(
    committed_db: Services, campaign_slug: str, settings: Settings, stub: SendGridStub
) -> None:
    with committed_db.session() as session:
        add_mail_deliveries(session, campaign_slug, 3)
    stub.fail_next(429)
    started = time.time()
    sender = MailSender(SendGridMailer(mail_settings(settings, stub)))
    result = deliver_due(committed_db.session_factory, MAIL_CHANNEL, sender, LocalRateLimiter(),
                         DeliveryPolicy(backoff_seconds=0.01), "w1")
    # The refused request waits out Retry-After in the table; the pause holds the others back.
    assert (result.postponed, result.retried, result.sent) == (1, 0, 2)
    assert min(a.at for a in stub.accepted) >= started + 0.9
    with committed_db.session() as session:
        refused = session.scalars(select(Delivery).where(Delivery.state == "pending")).one()
    assert refused.attempts == 0  # being told to slow down is not a failed try
    assert refused.next_attempt_at >= datetime.fromtimestamp(started + 0.9, UTC)


def test_client_error_fails_for_good_with_sendgrids_reason(
    committed_db: Services, campaign_slug: str, settings: Settings, stub: SendGridStub
) -> None:
    with committed_db.session() as session:
        add_mail_deliveries(session, campaign_slug, 1)
    stub.fail_next(400)
    result = run_once(committed_db, mail_settings(settings, stub))
    assert result.failed == 1
    with committed_db.session() as session:
        row = session.scalars(select(Delivery)).one()
    assert row.state == "failed" and row.last_error.startswith("SendGrid 400")


def test_server_errors_retry_until_dead_then_an_organizer_retry_sends_it(
    committed_db: Services, campaign_slug: str, settings: Settings, stub: SendGridStub
) -> None:
    with committed_db.session() as session:
        keys = add_mail_deliveries(session, campaign_slug, 1)
    sending = mail_settings(settings, stub, delivery_max_attempts=3)
    stub.fail_next(500, times=3)
    for _ in range(3):
        with committed_db.session() as session:
            session.execute(update(Delivery).values(next_attempt_at=datetime.now(UTC)))
            session.commit()
        run_once(committed_db, sending)
    with committed_db.session() as session:
        row = session.scalars(select(Delivery)).one()
        assert (row.state, row.attempts) == ("dead", 3)
        assert retry_dead(session, [row.id]) == 1
        assert retry_dead(session, [row.id]) == 0
    assert run_once(committed_db, sending).sent == 1
    assert [a.key for a in stub.accepted] == keys


def test_outcome_is_not_written_over_a_lease_that_was_taken_away(
    committed_db: Services, campaign_slug: str
) -> None:
    from actionwave.delivery.outcomes import Outcomes, record_outcomes

    with committed_db.session() as session:
        add_mail_deliveries(session, campaign_slug, 1)
        claimed = claim_due_deliveries(session, MAIL_CHANNEL, 1, "slow-worker", 60)
        session.execute(update(Delivery).values(lease_owner="someone-else"))
        session.commit()
        result = record_outcomes(session, Outcomes(MAIL_CHANNEL, sent=[(claimed[0].id, "x")]),
                                 "slow-worker", DeliveryPolicy())
        assert result.not_held == 1
        assert session.scalars(select(Delivery.state)).one() == "sending"


def test_claim_works_on_the_embedded_sqlite_database(tmp_path, campaign_slug: str) -> None:  # type: ignore[no-untyped-def]
    from actionwave.campaigns.files import load_campaign
    from actionwave.platform.migrate import upgrade
    from tests.conftest import CAMPAIGN_FILE

    embedded = Settings.from_env({}, instance_path=tmp_path)
    upgrade(embedded.database_url)
    services = Services(embedded)
    with services.session() as session:
        slug = load_campaign(session, CAMPAIGN_FILE).slug
        add_mail_deliveries(session, slug, 5)
        claimed = claim_due_deliveries(session, MAIL_CHANNEL, 3, "w1", 60)
        again = claim_due_deliveries(session, MAIL_CHANNEL, 3, "w2", 60)
    services.close()
    assert (len(claimed), len(again)) == (3, 2)
    assert replace(embedded).embedded


def test_rows_settled_while_the_worker_waited_for_a_token_are_not_sent_by_it(
    committed_db: Services, campaign_slug: str, settings: Settings, stub: SendGridStub
) -> None:
    mailing = mail_settings(settings, stub, sendgrid_requests_per_minute=60)
    policy = DeliveryPolicy.from_settings(mailing)
    sender = MailSender(SendGridMailer(mailing))
    limiter = LocalRateLimiter()
    limiter.take(sender.provider, 60)  # the bucket is empty: the worker waits about a second
    with committed_db.session() as session:
        (key,) = add_mail_deliveries(session, campaign_slug, 1)

    def lease_runs_out_and_a_sweeper_settles_it(seconds: float) -> None:
        time.sleep(max(seconds, policy.lease_seconds))
        with committed_db.session() as session:
            expire_leases(session, {MAIL_CHANNEL: sender}, policy)  # not found: back to pending

    deliver_due(committed_db.session_factory, MAIL_CHANNEL, sender, limiter, policy, "slow",
                sleep=lease_runs_out_and_a_sweeper_settles_it)
    assert stub.counts == {}, "the worker sent rows it no longer held"
    run_once(committed_db, mailing, worker="next")
    assert stub.counts == {key: 1}
