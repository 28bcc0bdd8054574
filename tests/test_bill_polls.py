"""The bill watcher's last poll, on PostgreSQL and on SQLite as ``make run`` configures it: every
kind of failure is recorded, counted, and shown with what to do on the console's bill page and in
``actionwave bill status``; ``Retry-After`` holds every campaign; a stale watcher shows a banner."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select, update

from actionwave.accounts.services import create_user
from actionwave.bill.budget import RequestBudget
from actionwave.bill.congress_api import CongressGovClient
from actionwave.bill.models import BillPoll
from actionwave.bill.polls import ADVICE, watch_status
from actionwave.bill.watcher import poll_campaign_bill
from actionwave.campaigns.files import load_campaign
from actionwave.cli.bill import bill
from actionwave.core.counters import read_counters
from actionwave.core.models import Campaign
from actionwave.platform.config import Settings
from actionwave.platform.migrate import upgrade
from actionwave.system.services import Services
from actionwave.waves.launch import create_wave
from tests.conftest import CAMPAIGN_FILE, ROOT
from tests.stubs.congress import API_KEY, BillReplay, CongressStub, running
from tests.test_console import PASSWORD, sign_in

HKETO = ("119", "hr", "2661")
EN = yaml.safe_load((ROOT / "web" / "translations" / "en.yaml").read_text(encoding="utf-8"))
ZH = yaml.safe_load((ROOT / "web" / "translations" / "zh-Hant.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def congress() -> Iterator[CongressStub]:
    with running(CongressStub()) as server:
        yield server  # type: ignore[misc]
        assert server.state["invalid"] == []


@pytest.fixture(params=["postgresql", "sqlite"])
def store(request: pytest.FixtureRequest, settings: Settings, tmp_path) -> Iterator[Services]:  # type: ignore[no-untyped-def]
    """The example campaign and a viewer, on PostgreSQL or on an embedded SQLite file."""
    if request.param == "postgresql":
        services = request.getfixturevalue("committed_db")
    else:
        url = f"sqlite:///{tmp_path / 'actionwave.db'}"
        upgrade(url)
        services = Services(replace(settings, database_url=url, redis_url=""))
    with services.session() as session:
        load_campaign(session, CAMPAIGN_FILE)
        create_user(session, "viewer@example.org", PASSWORD, "viewer")
    yield services
    if request.param == "sqlite":
        services.close()


@pytest.fixture
def console(store: Services) -> FlaskClient:
    from web import create_app

    app = create_app(store.settings, store)
    app.config["TESTING"] = True
    client = app.test_client()
    sign_in(client, "viewer")
    return client


def campaign_id(services: Services) -> int:
    with services.session() as session:
        return session.scalar(select(Campaign.id).where(Campaign.slug == "hketo-certification-act"))


def poll(services: Services, source: CongressGovClient):  # type: ignore[no-untyped-def]
    with services.session() as session:
        return poll_campaign_bill(session, campaign_id(services), source)


def source(stub: CongressStub, key: str = API_KEY, url: str | None = None,
           timeout: float = 5) -> CongressGovClient:
    return CongressGovClient(url or stub.api_url, key, RequestBudget(100), timeout=timeout,
                             sleep=lambda s: None)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/v3"


def status_output(services: Services) -> tuple[int, str]:
    result = CliRunner().invoke(bill, ["status", "--campaign", "hketo-certification-act"],
                                obj=services.settings)
    return result.exit_code, result.output


FAILURES: dict[str, tuple[str, Callable[[CongressStub], CongressGovClient]]] = {
    "cut short": ("bad_answer", lambda s: (s.fault("truncated"), source(s))[1]),
    "closed mid-answer": ("bad_answer", lambda s: (s.fault("cut"), source(s))[1]),
    "HTML": ("bad_answer", lambda s: (s.fault("html"), source(s))[1]),
    "hanging": ("unreachable", lambda s: (s.fault("hang"), source(s, timeout=0.5))[1]),
    "unreachable": ("unreachable", lambda s: source(s, url=closed_port_url())),
    "key missing": ("key_missing", lambda s: source(s, key="")),
    "key refused": ("key_refused", lambda s: (s.refuse_key(403), source(s))[1]),
    "rate-limited": ("rate_limited", lambda s: (s.fail_with_429(9, 600), source(s))[1]),
}


@pytest.mark.parametrize("case", list(FAILURES))
def test_each_failure_is_recorded_counted_and_shown_with_what_to_do(
        store: Services, console: FlaskClient, congress: CongressStub, case: str) -> None:
    kind, make_source = FAILURES[case]
    BillReplay(congress, HKETO).show("introduced")
    assert poll(store, source(congress)).outcome == "changed"
    result = poll(store, make_source(congress))
    assert result.outcome == "failed" and result.error is not None and result.error.kind == kind
    with store.session() as session:
        last = session.get(BillPoll, campaign_id(store))
        assert (last.outcome, last.error_kind, last.polls, last.failures) == ("failed", kind, 2, 1)
        assert last.last_success_at is not None and last.last_success_at < last.started_at
        assert API_KEY not in (last.error_message or "")
        assert read_counters(session, "bill_polls") == {"changed": 1, "failed": 1}

    page = console.get("/console/bill").get_data(as_text=True)
    assert f'data-kind="{kind}"' in page and _html(EN[f"bill_error_{kind}"]) in page
    assert _html(EN[f"bill_advice_{kind}"]) in page and _html(last.error_message) in page
    assert ("congress.gov asked us to wait until" in page) == (kind == "rate_limited")
    chinese = console.get("/console/bill?lang=zh-Hant").get_data(as_text=True)
    assert _html(ZH[f"bill_error_{kind}"]) in chinese
    assert _html(ZH[f"bill_advice_{kind}"]) in chinese

    code, output = status_output(store)
    assert code == 0, output
    assert f"failed ({kind}): {last.error_message}" in output
    assert f"what to do:    {ADVICE[kind]}" in output
    assert re.search(r"last success:  \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", output)
    assert "polls:         2, 1 failed (1 in a row now)" in output
    assert ("waiting until:" in output) == (kind == "rate_limited")


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("'", "&#39;").replace('"', "&#34;")


def test_a_successful_poll_shows_what_it_found(store: Services, console: FlaskClient,
                                               congress: CongressStub) -> None:
    assert "has not polled congress.gov" in console.get("/console/bill").get_data(as_text=True)
    BillReplay(congress, HKETO).show("in_committee")
    result = poll(store, source(congress))
    assert result.outcome == "changed" and [t.stage.key for t in result.transitions] == [
        "in_committee:house"]
    page = console.get("/console/bill").get_data(as_text=True)
    assert "succeeded: new actions: 2, new stages: 1" in page and "data-kind" not in page
    assert poll(store, source(congress)).outcome == "unchanged"
    assert "succeeded, nothing new" in console.get("/console/bill").get_data(as_text=True)
    code, output = status_output(store)
    assert code == 0 and "succeeded, nothing new" in output and "what to do" not in output
    assert "last success:  never" not in output


def test_retry_after_holds_every_campaign_until_it_ends(store: Services,
                                                       congress: CongressStub) -> None:
    BillReplay(congress, HKETO).show("introduced")
    congress.fail_with_429(9, retry_after=600)
    api = source(congress)
    assert poll(store, api).error.kind == "rate_limited"  # type: ignore[union-attr]
    requests = len(congress.state["requests"])
    with store.session() as session:
        other = Campaign(slug="other", title="Other", bill_congress=119, bill_type="hr",
                         bill_number=1)
        session.add(other)
        session.commit()
        for campaign in (campaign_id(store), other.id):  # the next ticks
            waiting = poll_campaign_bill(session, campaign, api)
            assert waiting.outcome == "waiting" and waiting.hold_until is not None
            assert timedelta(seconds=590) < waiting.hold_until - datetime.now(UTC) \
                <= timedelta(seconds=600)
    assert len(congress.state["requests"]) == requests  # nothing asked while the wait runs
    with store.session() as session:  # the wait is over
        session.execute(update(BillPoll).values(retry_at=datetime.now(UTC) - timedelta(seconds=1)))
        session.commit()
    congress.fail_with_429(0)
    assert poll(store, api).outcome == "changed"


def test_no_success_in_six_hours_shows_a_banner_on_every_page_and_fails_the_status(
        store: Services, console: FlaskClient, congress: CongressStub) -> None:
    BillReplay(congress, HKETO).show("introduced")
    poll(store, source(congress))
    assert "No poll of congress.gov has succeeded" not in console.get("/console/").get_data(
        as_text=True)
    poll(store, source(congress, key=""))
    with store.session() as session:
        seven_hours_ago = datetime.now(UTC) - timedelta(hours=7)
        session.execute(update(BillPoll).values(last_success_at=seven_hours_ago))
        session.commit()
        assert watch_status(session, session.get(Campaign, campaign_id(store))).stale
    for path in ("/console/", "/console/waves", "/console/bill"):
        page = console.get(path).get_data(as_text=True)
        assert "No poll of congress.gov has succeeded in the last 6 hours for H.R. 2661" in page
        assert 'role="alert"' in page and "/console/bill?campaign=hketo-certification-act#watcher" \
            in page
    code, output = status_output(store)
    assert code == 1 and "WARNING: no poll has succeeded in the last 6 hours" in output


def test_a_stage_wave_shows_what_it_waits_for_and_the_last_success(
        store: Services, console: FlaskClient, congress: CongressStub) -> None:
    with store.session() as session:
        create_wave(session, campaign_id(store), "When it passes", trigger="stage",
                    trigger_stage="passed_house")
        session.commit()
    page = console.get("/console/waves").get_data(as_text=True)
    assert "Waits for the bill to reach passed_house. The bill watcher last succeeded: never." \
        in page
    BillReplay(congress, HKETO).show("introduced")
    poll(store, source(congress))
    live = console.get("/console/waves/live").get_data(as_text=True)
    assert re.search(r"The bill watcher last succeeded: \d{4}-\d\d-\d\d \d\d:\d\d UTC\.", live)
    code, output = status_output(store)
    assert code == 0 and 'wave #1 "When it passes" waits for passed_house' in output


def test_cli_advice_is_the_console_advice_in_english() -> None:
    assert {kind: EN[f"bill_advice_{kind}"] for kind in ADVICE} == ADVICE
