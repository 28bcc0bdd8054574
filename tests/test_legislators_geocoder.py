"""The Census geocoder against a stub speaking its response format, and the ZIP fallback."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from actionwave.legislators.geocoder import (
    CensusGeocoder,
    GeocoderUnavailable,
    Location,
    location_from_response,
)
from actionwave.legislators.index import ZipIndex, load_index
from actionwave.legislators.lookup import (
    CHOSEN,
    MATCHED,
    NO_MATCH,
    NOT_NEEDED,
    OUTSIDE_ZIP,
    UNAVAILABLE,
    find_legislators,
)
from actionwave.legislators.sources import read_source
from actionwave.legislators.sync import store_snapshot
from tests.conftest import SHARED_DATA
from tests.stubs.base import REFERENCE, StubServer, serve
from tests.stubs.census import CensusHandler

MIT = {"matched": "77 MASSACHUSETTS AVE, CAMBRIDGE, MA, 02139", "state": "MA", "district": 7,
       "zip": "02139"}


@pytest.fixture
def census() -> Iterator[StubServer]:
    with serve(CensusHandler) as server:
        server.state["matches"] = [MIT]
        yield server


@pytest.fixture
def geocoder(census: StubServer) -> CensusGeocoder:
    return CensusGeocoder(census.url + "/", timeout=0.3)


@pytest.fixture(scope="module")
def index(services) -> ZipIndex:  # type: ignore[no-untyped-def]
    with services.session() as session:
        store_snapshot(session, read_source(str(SHARED_DATA)))
        return load_index(session, zips=["02139", "82001", "30165"])


def test_success_returns_the_district_and_sends_the_census_parameters(geocoder, census) -> None:
    location = geocoder.locate("77 Massachusetts Ave, Cambridge, MA 02139")
    assert location == Location("MA", 7, MIT["matched"])
    query = census.state["queries"][0]
    assert query["benchmark"] == "Public_AR_Current"
    assert query["vintage"] == "Current_Current"
    assert query["format"] == "json"
    assert query["layers"] == "54"  # without it Census sends no congressional district
    assert query["address"] == "77 Massachusetts Ave, Cambridge, MA 02139"


@pytest.mark.parametrize("name", ["census_address_default_layers.json",
                                  "census_onelineaddress_layers_all.json"])
def test_recorded_census_answers_are_parsed_and_yield_no_district(name: str) -> None:
    # The default answer has no district layer; the layers=all one has an error-status record.
    recorded = json.loads((REFERENCE / name).read_text())["response"]
    assert recorded["result"]["addressMatches"][0]["matchedAddress"].startswith("1600 PENN")
    assert location_from_response(recorded) is None


def test_the_stub_like_census_sends_no_district_unless_asked(census) -> None:
    import requests

    url = census.url + "/geographies/onelineaddress"
    plain = requests.get(url, params={"address": "77 Mass Ave"}, timeout=5).json()
    layers = plain["result"]["addressMatches"][0]["geographies"]
    assert sorted(layers) == ["2010 Census Blocks", "Census Tracts", "Counties", "States"]
    asked = requests.get(url, params={"address": "77 Mass Ave", "layers": "54"}, timeout=5)
    assert asked.json()["result"]["addressMatches"][0]["geographies"][
        "119th Congressional Districts"][0]["CD119"] == "07"


def test_a_client_that_asks_no_layers_gets_a_miss_not_an_error(census) -> None:
    assert CensusGeocoder(census.url, timeout=0.3, layers="").locate("77 Mass Ave") is None


def test_an_error_status_district_record_is_a_miss(geocoder, census) -> None:
    census.state["mode"] = "layer_error"
    assert geocoder.locate("77 Massachusetts Ave, Cambridge, MA 02139") is None


def test_layers_all_answer_gives_the_district(census) -> None:
    located = CensusGeocoder(census.url, timeout=0.3, layers="all").locate("77 Mass Ave")
    assert located == Location("MA", 7, MIT["matched"])


def test_delegate_district_98_becomes_district_0(geocoder, census) -> None:
    census.state["matches"] = [{"matched": "1 X ST NW, WASHINGTON, DC, 20001", "state": "DC",
                                "district": 98, "zip": "20001"}]
    assert geocoder.locate("1 X St NW, Washington DC").district == 0


def test_no_match_returns_none(geocoder, census) -> None:
    census.state["mode"] = "nomatch"
    assert geocoder.locate("nowhere") is None


def test_matches_in_different_districts_decide_nothing(geocoder, census) -> None:
    census.state["matches"] = [MIT, {**MIT, "district": 5, "matched": "77 MASS AVE"}]
    assert geocoder.locate("77 Mass Ave") is None


def test_unparseable_address_400_is_no_match(geocoder, census) -> None:
    census.state["mode"] = "badrequest"
    assert geocoder.locate("") is None


@pytest.mark.parametrize("mode", ["slow", "error"])
def test_timeout_and_5xx_raise_unavailable(geocoder, census, mode: str) -> None:
    census.state["mode"] = mode
    with pytest.raises(GeocoderUnavailable):
        geocoder.locate("77 Massachusetts Ave")


def test_connection_refused_is_unavailable() -> None:
    with pytest.raises(GeocoderUnavailable):
        CensusGeocoder("http://127.0.0.1:9", timeout=0.3).locate("anything")


def test_address_decides_a_split_zip(index, geocoder) -> None:
    result = find_legislators(index, "02139", address="77 Massachusetts Ave", geocoder=geocoder)
    assert result.address_status == MATCHED
    assert result.answer["ambiguous"] is False
    assert result.answer["districts"] == [{"state": "MA", "district": 7}]
    assert [r["name"] for r in result.answer["representatives"]] == ["Ayanna Pressley"]
    assert len(result.answer["senators"]) == 2


@pytest.mark.parametrize(("mode", "status"), [("slow", UNAVAILABLE), ("error", UNAVAILABLE),
                                              ("nomatch", NO_MATCH)])
def test_geocoder_failure_falls_back_to_the_ambiguous_zip_answer(index, geocoder, census,
                                                                 mode, status) -> None:
    census.state["mode"] = mode
    result = find_legislators(index, "02139", address="77 Massachusetts Ave", geocoder=geocoder)
    assert result.address_status == status
    assert result.answer["ambiguous"] is True
    assert len(result.answer["representatives"]) == 2


def test_address_outside_the_zip_keeps_the_zip_answer(index, geocoder, census) -> None:
    census.state["matches"] = [{**MIT, "district": 2}]
    result = find_legislators(index, "02139", address="somewhere", geocoder=geocoder)
    assert result.address_status == OUTSIDE_ZIP
    assert result.answer["ambiguous"] is True


def test_unambiguous_zip_does_not_call_the_geocoder(index, geocoder, census) -> None:
    result = find_legislators(index, "82001", address="1 Main St", geocoder=geocoder)
    assert result.address_status == NOT_NEEDED
    assert "queries" not in census.state


def test_chosen_district_decides_without_the_geocoder(index, geocoder, census) -> None:
    result = find_legislators(index, "02139", district=5, geocoder=geocoder, address="x")
    assert result.address_status == CHOSEN
    assert [r["name"] for r in result.answer["representatives"]] == ["Katherine M. Clark"]
    assert "queries" not in census.state
