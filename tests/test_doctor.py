"""``actionwave doctor`` against the provider stubs: all up, one down, and nothing answering."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, closing
from dataclasses import replace
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from actionwave.cli import cli
from actionwave.legislators.models import Legislator
from actionwave.legislators.sync import current_snapshot_id
from actionwave.platform.config import Settings
from actionwave.system.doctor import diagnose, render
from actionwave.system.services import Services
from tests.stubs.base import serve
from tests.stubs.census import CensusHandler
from tests.stubs.congress import API_KEY as CONGRESS_KEY
from tests.stubs.congress import BillReplay, CongressStub, running
from tests.stubs.cwc import AGENT, API_KEY, cwc_stub
from tests.stubs.sendgrid import API_KEY as SENDGRID_KEY
from tests.stubs.sendgrid import sendgrid_stub
from tests.support import free_port


@pytest.fixture
def stubs() -> Iterator[dict[str, Any]]:
    with ExitStack() as stack:
        census = stack.enter_context(serve(CensusHandler))
        census.state["matches"] = [{"matched": "1600 PENNSYLVANIA AVE NW, WASHINGTON, DC, 20500",
                                    "state": "DC", "district": 98, "zip": "20500"}]
        congress = stack.enter_context(running(CongressStub()))
        BillReplay(congress, ("119", "hr", "2661")).show("passed_house")  # type: ignore[arg-type]
        yield {"census": census, "congress": congress,
               "sendgrid": stack.enter_context(sendgrid_stub()),
               "cwc": stack.enter_context(cwc_stub())}


def configured(settings: Settings, stubs: dict[str, Any]) -> Settings:
    return replace(settings, geocoder_url=stubs["census"].url,
                   congress_api_url=stubs["congress"].api_url, congress_api_key=CONGRESS_KEY,
                   sendgrid_api_host=stubs["sendgrid"].url, sendgrid_api_key=SENDGRID_KEY,
                   cwc_api_url=f"{stubs['cwc'].url}/v2", cwc_api_key=API_KEY, **AGENT)


def seated_house_members(services: Services) -> int:
    with services.session() as session:
        return session.scalar(select(func.count()).select_from(Legislator).where(
            Legislator.snapshot_id == current_snapshot_id(session),
            Legislator.chamber == "house")) or 0


def doctor(settings: Settings, monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    for name, value in settings.to_env().items():
        monkeypatch.setenv(name, value)
    return CliRunner().invoke(cli, ["doctor", *args])


def test_every_provider_answers_and_the_house_coverage_is_counted(
    settings: Settings, services: Services, stubs: dict[str, Any], campaign_slug: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    result = doctor(configured(settings, stubs), monkeypatch)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("  ok   Census geocoder  ") and "DC-0" in line for line in lines)
    assert "  ok   congress.gov     HR 2661 (119th): 9 actions read" in lines
    assert any(line.startswith("  ok   SendGrid") for line in lines)
    assert any(line.startswith("  ok   CWC") for line in lines)
    seated = seated_house_members(services)
    assert f"House offices, campaign '{campaign_slug}' ({seated} seated): {seated} CWC" in \
        result.output
    # Harmless calls only: CWC validated without delivering, SendGrid's sandbox sent nothing.
    assert len(stubs["cwc"].state["cwc_validated"]) == 1 and stubs["cwc"].state[
        "cwc_received"] == []
    assert stubs["sendgrid"].sandboxed == 1 and stubs["sendgrid"].accepted == []
    assert [q["layers"] for q in stubs["census"].state["queries"]] == ["54"]


def test_without_cwc_the_house_offices_are_counted_by_what_they_get(
    settings: Settings, stubs: dict[str, Any], campaign_slug: str,
) -> None:
    report = diagnose(replace(configured(settings, stubs), cwc_api_url="", cwc_api_key=""))
    [campaign] = [c for c in report.campaigns if c.slug == campaign_slug]
    assert campaign.house["cwc"] == 0
    assert campaign.house["contact_form"] == 2  # the two with a contact form in the data
    assert campaign.house["none"] == sum(campaign.house.values()) - 2
    assert "CWC              not configured" in render(report) and report.healthy


def test_a_provider_that_is_down_fails_the_doctor(
    settings: Settings, stubs: dict[str, Any], campaign_slug: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    down = replace(configured(settings, stubs),
                   sendgrid_api_host=f"http://127.0.0.1:{free_port()}")
    result = doctor(down, monkeypatch, "--json")
    assert result.exit_code == 1
    assert '"name": "SendGrid"' in result.output and '"ok": false' in result.output
    stubs["cwc"].state["cwc_fail"].append(401)
    assert "FAIL CWC" in render(diagnose(configured(settings, stubs)))


def test_bad_agent_settings_fail_without_calling_cwc(
        settings: Settings, stubs: dict[str, Any]) -> None:
    report = diagnose(replace(configured(settings, stubs), cwc_agent_contact_phone="555-0123"))
    assert "FAIL CWC              CWC_AGENT_CONTACT_PHONE: must look like 202-555-0123" in \
        render(report)
    assert stubs["cwc"].state["requests"] == []


def test_nothing_answering_is_reported_within_seconds(
    settings: Settings, campaign_slug: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    with closing(socket.socket()) as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        offline = replace(settings, geocoder_url=url, congress_api_url=url,
                          congress_api_key="ck", sendgrid_api_host=url, sendgrid_api_key="SG.k",
                          cwc_api_url=f"{url}/v2", cwc_api_key="k", **AGENT)
        started = time.monotonic()
        result = doctor(offline, monkeypatch, "--timeout", "1")
        took = time.monotonic() - started
    assert result.exit_code == 1
    assert sum(line.startswith("  FAIL") for line in result.output.splitlines()) == 4
    assert took < 5, f"doctor took {took:.1f} s with nothing answering"
