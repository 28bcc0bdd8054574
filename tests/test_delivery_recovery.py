"""In-doubt sends are settled with the provider, including after a worker is SIGKILLed."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from actionwave.core.models import Delivery
from actionwave.delivery.claims import claim_due_deliveries
from actionwave.delivery.engine import deliver_due
from actionwave.delivery.mailing import MAIL_CHANNEL, MailSender, outgoing_mail
from actionwave.delivery.policy import DeliveryPolicy
from actionwave.delivery.recovery import expire_leases, in_doubt_report
from actionwave.mail.sendgrid_mailer import SendGridMailer
from actionwave.platform.config import Settings
from actionwave.platform.ratelimit import LocalRateLimiter
from actionwave.system.services import Services
from tests.delivery_support import add_mail_deliveries, mail_settings, states_of
from tests.stubs.sendgrid import (
    SendGridHandler,
    SendGridServer,
    SendGridState,
    SendGridStub,
    sendgrid_stub,
)
from tests.support import wait_for


class SlowAnswerHandler(SendGridHandler):
    """Records an accepted mail at once but answers 202 only after a delay, so a worker killed
    meanwhile leaves sends the provider has and our rows don't know about."""

    answer_delay = 0.2

    def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        if status == 202:
            time.sleep(self.answer_delay)
        super().send_json(status, payload, headers)


@pytest.fixture
def slow_stub() -> Iterator[SendGridStub]:
    server = SendGridServer(SlowAnswerHandler, 0)
    server.state["sendgrid"] = SendGridState()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield SendGridStub(server)
    server.shutdown()
    server.server_close()


def sweep(services: Services, settings: Settings) -> None:
    senders = {MAIL_CHANNEL: MailSender(SendGridMailer(settings))}
    with services.session() as session:
        expire_leases(session, senders, DeliveryPolicy.from_settings(settings))


def expire_all_leases(services: Services) -> None:
    with services.session() as session:
        session.execute(update(Delivery).values(
            lease_expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        session.commit()


def test_expired_lease_is_settled_by_lookup_never_by_a_blind_resend(
    committed_db: Services, campaign_slug: str, settings: Settings
) -> None:
    with sendgrid_stub() as stub, committed_db.session() as session:
        sending = mail_settings(settings, stub)
        keys = add_mail_deliveries(session, campaign_slug, 2, category="action")
        claimed = claim_due_deliveries(session, MAIL_CHANNEL, 2, "dead-worker", 60)
        # The dead worker got its request out for the first mail only.
        SendGridMailer(sending).send([outgoing_mail(claimed[0])])
        expire_all_leases(committed_db)
        sweep(committed_db, sending)
        assert states_of(session, keys) == {keys[0]: "sent", keys[1]: "pending"}
        report = in_doubt_report(session)
    assert report["in_doubt"] == 2
    assert (report["in_doubt_sent"], report["in_doubt_resent"]) == (1, 1)
    assert [a.key for a in stub.accepted] == [keys[0]]


def test_unknown_lookup_keeps_the_delivery_in_doubt_and_asks_again(
    committed_db: Services, campaign_slug: str, settings: Settings
) -> None:
    with sendgrid_stub() as stub, committed_db.session() as session:
        keys = add_mail_deliveries(session, campaign_slug, 1)
        claim_due_deliveries(session, MAIL_CHANNEL, 1, "dead-worker", 60)
        expire_all_leases(committed_db)
        stub.api_key = "rotated"  # the Activity API refuses: the provider can't tell us
        sweep(committed_db, mail_settings(settings, stub))
        assert states_of(session, keys) == {keys[0]: "sending"}
        stub.api_key = "SG.test-key"
        sweep(committed_db, mail_settings(settings, stub))
        assert states_of(session, keys) == {keys[0]: "pending"}
        report = in_doubt_report(session)
    assert report["in_doubt"] == 1 and report["in_doubt_unknown"] == 1
    assert report["in_doubt_resent"] == 1 and report["still_in_doubt"] == 0


def test_timed_out_send_is_looked_up_before_any_resend(
    committed_db: Services, campaign_slug: str, settings: Settings
) -> None:
    with sendgrid_stub() as stub:
        with committed_db.session() as session:
            keys = add_mail_deliveries(session, campaign_slug, 1)
        stub.mode = "drop"  # accepted, but the connection is cut before the answer
        sending = mail_settings(settings, stub)
        sender = MailSender(SendGridMailer(sending))
        result = deliver_due(committed_db.session_factory, MAIL_CHANNEL, sender,
                             LocalRateLimiter(), DeliveryPolicy.from_settings(sending), "w1")
        assert result.in_doubt == 1
        stub.mode = "ok"
        sweep(committed_db, sending)
        with committed_db.session() as session:
            assert states_of(session, keys) == {keys[0]: "sent"}
        assert [a.key for a in stub.accepted] == keys


@pytest.mark.faults
def test_sigkilled_worker_mid_batch_sends_each_of_1000_exactly_once(
    committed_db: Services, campaign_slug: str, settings: Settings, slow_stub: SendGridStub,
    start_worker,  # type: ignore[no-untyped-def]
) -> None:
    from workers import create_celery

    worker_settings = mail_settings(settings, slow_stub, delivery_batch_size=25,
                                    delivery_lease_seconds=3.0)
    with committed_db.session() as session:
        keys = add_mail_deliveries(session, campaign_slug, 1200, category="action")
    app = create_celery(worker_settings)
    first = start_worker(worker_settings)
    for _ in range(worker_settings.worker_concurrency):
        app.send_task("actionwave.deliver_due", args=(MAIL_CHANNEL,))
    wait_for(lambda: len(slow_stub.accepted) >= 300, timeout=30, message="sends under way")
    first.kill()
    at_kill = len(slow_stub.accepted)
    assert at_kill < len(keys), "the batch finished before the kill"

    start_worker(replace(worker_settings))

    def all_sent() -> bool:
        app.send_task("actionwave.sweep_deliveries")
        with committed_db.session() as session:
            return session.scalar(select(func.count()).where(Delivery.state == "sent")) == len(keys)

    wait_for(all_sent, timeout=60, interval=1.0, message="every delivery sent")
    counts = slow_stub.counts
    assert sorted(counts) == sorted(keys)
    assert set(counts.values()) == {1}, "a mail was sent twice"
    with committed_db.session() as session:
        report = in_doubt_report(session)
    assert report["in_doubt"] > 0 and report["in_doubt_sent"] > 0
    assert report["in_doubt_sent"] + report["in_doubt_resent"] == report["in_doubt"]
    print(f"killed at {at_kill} of {len(keys)} accepted; {report}")
    app.close()
