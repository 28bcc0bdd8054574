"""``GET /api/v1/legislators`` and step 1 of the campaign page, with and without an address."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from flask import Flask

from actionwave.legislators.sources import read_source
from actionwave.legislators.sync import store_snapshot
from actionwave.platform.config import Settings
from actionwave.system.schema import metadata
from actionwave.system.services import Services
from tests.conftest import SHARED_DATA
from tests.stubs.base import StubServer, serve
from tests.stubs.census import CensusHandler
from web import create_app


@pytest.fixture(scope="module")
def census() -> Iterator[StubServer]:
    with serve(CensusHandler) as server:
        yield server


@pytest.fixture(autouse=True)
def census_state(census: StubServer) -> None:
    census.state.clear()
    census.state["matches"] = [{"matched": "77 MASSACHUSETTS AVE", "state": "MA",
                                "district": 7, "zip": "02139"}]


@pytest.fixture(scope="module")
def web_app(settings: Settings, census: StubServer) -> Iterator[Flask]:
    own = replace(settings, geocoder_url=census.url, geocoder_timeout_seconds=0.3,
                  legislators_check_seconds=0,  # its own namespace: its own geocoder cache
                  namespace=f"{settings.namespace}-legweb-{time.monotonic_ns()}")
    services = Services(own)
    with services.session() as session:
        store_snapshot(session, read_source(str(SHARED_DATA)))
    app = create_app(own, services)
    app.config["TESTING"] = True
    yield app
    services.close()


@pytest.fixture
def api(web_app: Flask):  # type: ignore[no-untyped-def]
    return web_app.test_client()


@pytest.fixture
def empty_app(settings: Settings, tmp_path) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    own = replace(settings, database_url=f"sqlite:///{tmp_path / 'empty.db'}")
    services = Services(own)
    metadata.create_all(services.engine)
    yield create_app(own, services)
    services.close()


def test_zip_answer_is_cacheable_by_snapshot(api) -> None:
    response = api.get("/api/v1/legislators?zip=82001")
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == ["zip", "ambiguous", "districts", "senators", "representatives"]
    assert body["representatives"][0]["cwc_office"] == "HWY00"
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    etag = response.headers["ETag"]
    again = api.get("/api/v1/legislators?zip=82001", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["ETag"] == etag


def test_zip_plus_four_is_accepted(api) -> None:
    assert api.get("/api/v1/legislators?zip=82001-1234").get_json()["zip"] == "82001"


@pytest.mark.parametrize(("query", "field"), [
    ("", "zip"), ("zip=abc", "zip"), ("zip=1234", "zip"),
    ("zip=02139&address=" + "x" * 201, "address"), ("zip=02139&district=seven", "district"),
])
def test_bad_input_is_a_400_naming_the_field(api, query: str, field: str) -> None:
    response = api.get(f"/api/v1/legislators?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field


def test_zip_outside_the_crosswalk_is_a_404(api) -> None:
    response = api.get("/api/v1/legislators?zip=20500")
    assert response.status_code == 404
    assert response.get_json()["error"]["field"] == "zip"


def test_address_narrows_a_split_zip_privately(api, census) -> None:
    response = api.get("/api/v1/legislators?zip=02139&address=77+Massachusetts+Ave")
    body = response.get_json()
    assert body["ambiguous"] is False
    assert [r["name"] for r in body["representatives"]] == ["Ayanna Pressley"]
    assert response.headers["X-Lookup-Address"] == "matched"
    assert response.headers["Cache-Control"].startswith("private")


def test_geocoder_outage_answers_with_the_ambiguous_zip(api, census) -> None:
    census.state["mode"] = "error"
    # An address not asked before: answers are remembered (CachedGeocoder), outages are not.
    response = api.get("/api/v1/legislators?zip=02139&address=1+Outage+Ave")
    assert response.status_code == 200
    assert response.get_json()["ambiguous"] is True
    assert response.headers["X-Lookup-Address"] == "unavailable"


def test_no_snapshot_is_a_503_not_a_500(empty_app) -> None:
    response = empty_app.test_client().get("/api/v1/legislators?zip=82001")
    assert response.status_code == 503
    assert "not loaded" in response.get_json()["error"]["message"]
    assert response.headers["Retry-After"]


def test_page_asks_for_the_address_of_a_split_zip(api, campaign_slug) -> None:
    html = api.get(f"/c/{campaign_slug}?zip=02139").get_data(as_text=True)
    assert "is split between 2 congressional districts" in html
    assert 'type="radio" name="district"' in html
    assert "Katherine M. Clark" in html and "Ayanna Pressley" in html


def test_page_with_a_chosen_district_shows_one_representative(api, campaign_slug) -> None:
    html = api.get(f"/c/{campaign_slug}?zip=02139&district=7").get_data(as_text=True)
    assert "Ayanna Pressley" in html and "Katherine M. Clark" not in html
    assert 'name="district" id="chosen-district" value="7"' in html


def test_page_shows_a_vacant_seat_and_the_senators(api, campaign_slug) -> None:
    html = api.get(f"/c/{campaign_slug}?zip=94541").get_data(as_text=True)
    assert "This seat is vacant" in html
    assert html.count('class="legislator"') == 2


def test_page_in_traditional_chinese(api, campaign_slug) -> None:
    html = api.get(f"/c/{campaign_slug}?zip=20001&lang=zh-Hant").get_data(as_text=True)
    assert "這個地區沒有參議員" in html and "眾議院代表" in html


@pytest.mark.parametrize(("query", "message"), [
    ("zip=20500", "We don&#39;t have ZIP code 20500"),
    ("zip=abc", "Please enter a five-digit ZIP code."),
])
def test_page_explains_lookup_problems_kindly(api, campaign_slug, query, message) -> None:
    response = api.get(f"/c/{campaign_slug}?{query}")
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def test_page_without_data_still_renders(empty_app, services, campaign_slug) -> None:
    from actionwave.campaigns.files import load_campaign
    from tests.conftest import CAMPAIGN_FILE

    with empty_app.extensions["actionwave"].session() as session:
        load_campaign(session, CAMPAIGN_FILE)
    response = empty_app.test_client().get(f"/c/{campaign_slug}?zip=82001")
    assert response.status_code == 200
    assert "We can&#39;t look up legislators right now" in response.get_data(as_text=True)
