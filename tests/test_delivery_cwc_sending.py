"""CWC deliveries through the engine and the real CWC client, against the local CWC stub."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from actionwave.core.models import Delivery
from actionwave.cwc.message import delivery_id
from actionwave.delivery.claims import Claimed, claim_due_deliveries
from actionwave.delivery.cwc_sending import CWC_CHANNEL, CwcSender, cwc_document, cwc_payload
from actionwave.delivery.engine import deliver_due
from actionwave.delivery.outcomes import BatchResult
from actionwave.delivery.planning import plan_deliveries
from actionwave.delivery.policy import DeliveryPolicy
from actionwave.delivery.recovery import expire_leases, in_doubt_report
from actionwave.delivery.targets import TargetPlanner
from actionwave.intake.submissions import parse_action_form, submit_action
from actionwave.platform.config import Settings
from actionwave.platform.ratelimit import LocalRateLimiter
from actionwave.system.services import Services
from tests.stubs.base import StubServer
from tests.stubs.cwc import AGENT, API_KEY, cwc_stub
from tests.support import resolve_action, wait_for
from tests.test_cwc import MESSAGE, PERSON


@pytest.fixture
def stub() -> Iterator[StubServer]:
    with cwc_stub() as server:
        yield server


def cwc_settings(settings: Settings, stub: StubServer, **changes: object) -> Settings:
    return replace(settings, cwc_api_url=f"{stub.url}/v2", cwc_api_key=API_KEY,
                   delivery_lookup_grace_seconds=0.0, delivery_backoff_seconds=0.01,
                   cwc_requests_per_minute=0, office_messages_per_minute=0,
                   **{**AGENT, **changes})


def plan_cwc(services: Services, settings: Settings, campaign_slug: str, count: int,
             city: str = "Cheyenne") -> list[str]:
    """``count`` Wyoming supporters' actions, planned; returns their CWC delivery keys."""
    keys = []
    with services.session() as session:
        for _ in range(count):
            form = parse_action_form({
                "first_name": "Mei", "last_name": "Chan", "zip": "82001", "consent": "true",
                "email": f"mei-{uuid.uuid4().hex[:8]}@example.org", "address": "1 Main St",
                "city": "Cheyenne", "message": "My own words.", "prefix": "Ms."}, cwc=True)
            action_id = submit_action(session, campaign_slug, form).action_id
            targets = resolve_action(session, action_id)
            plan_deliveries(session, settings, action_id, targets, TargetPlanner(settings))
            keys.append(f"cwc:H001096:{action_id}")
        if city != "Cheyenne":  # a payload the CWC grammar refuses
            rows = session.scalars(select(Delivery).where(Delivery.channel == CWC_CHANNEL))
            for row in rows:
                payload = dict(row.payload)
                payload["cwc"] = {**payload["cwc"], "constituent": {
                    **payload["cwc"]["constituent"], "city": city}}
                row.payload = payload
            session.commit()
    return keys


def run(services: Services, settings: Settings) -> BatchResult:
    return deliver_due(services.session_factory, CWC_CHANNEL, CwcSender(settings),
                       LocalRateLimiter(), DeliveryPolicy.from_settings(settings, "cwc"), "w1",
                       sleep=lambda _: None)


def rows_by_key(services: Services, keys: list[str]) -> dict[str, Delivery]:
    with services.session() as session:
        rows = session.scalars(select(Delivery).where(Delivery.idempotency_key.in_(keys))).all()
    return {row.idempotency_key: row for row in rows}


def received_ids(stub: StubServer) -> list[str]:
    return [ET.fromstring(body).findtext("Delivery/DeliveryId")
            for body in stub.state["cwc_received"]]


def test_each_message_is_posted_once_and_cwcs_answer_is_recorded(
    committed_db: Services, campaign_slug: str, settings: Settings, stub: StubServer
) -> None:
    sending = cwc_settings(settings, stub)
    keys = plan_cwc(committed_db, sending, campaign_slug, 3)
    assert run(committed_db, sending).sent == 3
    assert run(committed_db, sending).claimed == 0
    assert sorted(received_ids(stub)) == sorted(delivery_id(k) for k in keys)
    for key, row in rows_by_key(committed_db, keys).items():
        assert row.state == "sent"
        assert row.provider_id == f"{delivery_id(key)} 200: Message received"


def test_one_office_gets_no_more_than_its_rate(
    committed_db: Services, campaign_slug: str, settings: Settings, stub: StubServer
) -> None:
    sending = cwc_settings(settings, stub)
    keys = plan_cwc(committed_db, sending, campaign_slug, 3)
    limited = replace(sending, office_messages_per_minute=1)
    result = run(committed_db, limited)
    assert (result.sent, result.postponed) == (1, 2)
    states = {row.state for row in rows_by_key(committed_db, keys).values()}
    assert states == {"sent", "pending"} and len(stub.state["cwc_received"]) == 1


def test_refused_message_fails_with_cwcs_reason(
    committed_db: Services, campaign_slug: str, settings: Settings, stub: StubServer
) -> None:
    sending = cwc_settings(settings, stub)
    keys = plan_cwc(committed_db, sending, campaign_slug, 1)
    stub.state["cwc_fail"].append(400)
    assert run(committed_db, sending).failed == 1
    row = rows_by_key(committed_db, keys)[keys[0]]
    assert row.state == "failed" and "CWC 400" in row.last_error


def test_a_document_the_grammar_refuses_is_never_posted_and_goes_dead_with_why(
    committed_db: Services, campaign_slug: str, settings: Settings, stub: StubServer
) -> None:
    sending = cwc_settings(settings, stub)
    keys = plan_cwc(committed_db, sending, campaign_slug, 1, city="Ai")
    assert run(committed_db, sending).dead == 1
    assert stub.state["requests"] == []  # nothing reached CWC
    row = rows_by_key(committed_db, keys)[keys[0]]
    assert row.state == "dead" and row.attempts == 1
    assert row.last_error == ("not sent: the CWC document is invalid: Constituent/City: "
                              "at least 3 characters (has 2)")


def test_server_trouble_is_retried_later(
    committed_db: Services, campaign_slug: str, settings: Settings, stub: StubServer
) -> None:
    sending = cwc_settings(settings, stub)
    keys = plan_cwc(committed_db, sending, campaign_slug, 1)
    stub.state["cwc_fail"].append(503)
    assert run(committed_db, sending).retried == 1
    row = rows_by_key(committed_db, keys)[keys[0]]
    assert row.state == "pending" and "CWC 503" in row.last_error


def test_in_doubt_message_is_sent_again_with_the_same_delivery_id(
    committed_db: Services, campaign_slug: str, settings: Settings, stub: StubServer
) -> None:
    sending = cwc_settings(settings, stub)
    keys = plan_cwc(committed_db, sending, campaign_slug, 1)
    sender = CwcSender(sending)
    with committed_db.session() as session:
        claimed = claim_due_deliveries(session, CWC_CHANNEL, 1, "dead-worker", 60)
        sender.send(claimed)  # the worker posted, then died before recording it
        session.execute(update(Delivery).values(
            lease_expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        session.commit()
        expire_leases(session, {CWC_CHANNEL: sender}, DeliveryPolicy.from_settings(sending))
    assert run(committed_db, sending).sent == 1
    assert received_ids(stub) == [delivery_id(keys[0])] * 2
    with committed_db.session() as session:
        report = in_doubt_report(session)
    assert (report["in_doubt"], report["in_doubt_resent"]) == (1, 1)


def test_document_keeps_the_delivery_id_of_its_key(settings: Settings) -> None:
    payload = cwc_payload("HNJ04", PERSON, MESSAGE, "hketo-certification-act")
    claimed = Claimed(1, "cwc:X:1", "HNJ04", payload, 1)
    first, again = (ET.fromstring(cwc_document(settings, claimed)) for _ in range(2))
    assert first.findtext("Delivery/DeliveryId") == again.findtext("Delivery/DeliveryId")
    assert first.findtext("Delivery/DeliveryId") == delivery_id("cwc:X:1")


def test_a_real_worker_sends_a_submission_to_the_house_office(
    committed_db: Services, campaign_slug: str, settings: Settings, stub: StubServer,
    start_worker,  # type: ignore[no-untyped-def]
) -> None:
    sending = cwc_settings(settings, stub)
    start_worker(sending)
    with committed_db.session() as session:
        form = parse_action_form({
            "first_name": "Mei", "last_name": "Chan", "zip": "82001", "consent": "true",
            "email": "mei-worker@example.org", "address": "1 Main St", "city": "Cheyenne",
            "prefix": "Mx."}, cwc=True)
        action_id = submit_action(session, campaign_slug, form).action_id
    wait_for(lambda: stub.state["cwc_received"], message="the CWC message")
    [body] = stub.state["cwc_received"]
    assert ET.fromstring(body).findtext("Recipient/MemberOffice") == "HWY00"
    assert delivery_id(f"cwc:H001096:{action_id}") in body.decode()


def test_the_dead_documents_reason_shows_in_the_cli_and_the_console(
    committed_db: Services, campaign_slug: str, settings: Settings, stub: StubServer,
    client, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    from click.testing import CliRunner

    from actionwave.accounts.services import create_user
    from actionwave.cli import cli
    from actionwave.cli.delivery import deliveries
    from tests.test_console import PASSWORD, sign_in

    sending = cwc_settings(settings, stub)
    plan_cwc(committed_db, sending, campaign_slug, 1, city="Ai")
    run(committed_db, sending)
    why = "not sent: the CWC document is invalid: Constituent/City: at least 3 characters (has 2)"
    cli.add_command(deliveries)
    for name, value in settings.to_env().items():
        monkeypatch.setenv(name, value)
    listed = CliRunner().invoke(cli, ["deliveries", "list", "--state", "dead"])
    assert listed.exit_code == 0 and why in listed.output
    with committed_db.session() as session:
        create_user(session, "organizer@example.org", PASSWORD, "organizer")
    sign_in(client, "organizer")
    page = client.get("/console/deliveries?state=dead").get_data(as_text=True)
    assert why in page
