"""What CWC requires of a constituent, enforced at intake when the House is reached through CWC:
a field-named 4xx from the API and the form (English and Chinese), on PostgreSQL and SQLite."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask

from actionwave.campaigns.files import load_campaign
from actionwave.intake.submissions import FieldError, cwc_fields_needed, parse_action_form
from actionwave.platform.config import Settings
from actionwave.platform.migrate import upgrade
from actionwave.system.services import Services
from tests.conftest import CAMPAIGN_FILE, truncate_all
from tests.stubs.cwc import AGENT

CWC = {"cwc_api_url": "http://127.0.0.1:9/v2", "cwc_api_key": "k", **AGENT}
FILLED = {"email": "mei@example.org", "first_name": "Mei", "last_name": "Chan", "zip": "82001",
          "prefix": "Mx.", "address": "2120 Capitol Ave", "city": "Cheyenne",
          "message": "Please act on this bill."}


def refused(data: dict[str, str], cwc: bool = True) -> tuple[str, str]:
    with pytest.raises(FieldError) as caught:
        parse_action_form(data, cwc=cwc)
    return caught.value.field, caught.value.message


def test_cwc_needs_prefix_street_address_and_city() -> None:
    for field in ("prefix", "address", "city"):
        data = {k: v for k, v in FILLED.items() if k != field}
        assert refused(data)[0] == field
        assert parse_action_form(data, cwc=False)  # without CWC they stay optional


def test_prefix_is_one_of_the_offered_values() -> None:
    assert parse_action_form(FILLED, cwc=True).prefix == "Mx."
    assert refused({**FILLED, "prefix": "Sir"}) == (
        "prefix", "must be one of Mr., Ms., Mrs., Miss, Mx., Dr., Prof., Rev., Hon.")
    assert refused({**FILLED, "prefix": "Sir"}, cwc=False)[0] == "prefix"


def test_what_a_supporter_can_fix_is_refused_with_cwcs_limits() -> None:
    assert refused({**FILLED, "address": "1A"}) == (
        "address", "must be a street address of at least 3 characters")
    assert refused({**FILLED, "message": "Yes!"}) == (
        "message", "must be at least 6 characters, or left empty")
    assert parse_action_form({**FILLED, "message": ""}, cwc=True).message is None
    assert parse_action_form({**FILLED, "message": "Yes!"}, cwc=False).message == "Yes!"


def test_a_real_two_letter_town_is_accepted_as_typed() -> None:
    assert parse_action_form({**FILLED, "city": "Ai"}, cwc=True).city == "Ai"


def test_characters_xml_cannot_carry_are_refused() -> None:
    assert refused({**FILLED, "last_name": "Chan\ufffe"}, cwc=False) == (
        "last_name", "contains control characters")


def test_cwc_fields_are_needed_only_for_house_campaigns_with_cwc_configured(
        settings: Settings) -> None:
    assert not cwc_fields_needed(settings, ["house", "senate"])
    assert cwc_fields_needed(replace(settings, **CWC), ["house", "senate"])
    assert not cwc_fields_needed(replace(settings, **CWC), ["senate"])


@pytest.fixture(params=["postgresql", "sqlite"])
def cwc_app(request: pytest.FixtureRequest, settings: Settings, tmp_path: Path,
            campaign_slug: str) -> Iterator[Flask]:
    """The web app with CWC configured, on the session's PostgreSQL or on SQLite as
    ``make run`` configures it."""
    from web import create_app

    own = replace(settings, **CWC)
    if request.param == "sqlite":
        own = replace(own, database_url=f"sqlite:///{tmp_path / 'cwc.db'}")
        upgrade(own.database_url)
    services = Services(own)
    with services.session() as session:
        load_campaign(session, CAMPAIGN_FILE)
    app = create_app(own, services)
    app.config["TESTING"] = True
    yield app
    if request.param == "postgresql":
        truncate_all(services.engine)  # what the app committed, shared with later tests
    services.close()


def test_api_names_the_missing_cwc_field(cwc_app: Flask, campaign_slug: str) -> None:
    api = cwc_app.test_client()
    url = f"/api/v1/campaigns/{campaign_slug}/actions"
    without = {k: v for k, v in FILLED.items() if k != "prefix"}
    response = api.post(url, json={**without, "locale": "zh-Hant"})
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "prefix"
    assert api.post(url, json=FILLED).status_code == 202


@pytest.mark.parametrize(("lang", "label"), [("en", "Title"), ("zh-Hant", "稱謂")])
def test_form_shows_the_missing_prefix_by_its_field(cwc_app: Flask, campaign_slug: str,
                                                    lang: str, label: str) -> None:
    browser = cwc_app.test_client()
    page = browser.get(f"/c/{campaign_slug}?lang={lang}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert re.search(r'<select id="prefix" name="prefix"[^>]* required', page)
    without = {k: v for k, v in FILLED.items() if k != "prefix"}
    response = browser.post(f"/c/{campaign_slug}/act?lang={lang}",
                            data={**without, "csrf_token": token, "locale": lang})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f"<strong>{label}</strong>" in html
    assert re.search(r'<select id="prefix"[^>]* aria-invalid="true"', html)
    assert 'value="2120 Capitol Ave"' in html  # what they typed is kept
