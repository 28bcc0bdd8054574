"""The ZIP index over the whole of the shared data: every ZCTA, the counts, the named cases."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterator

import pytest

from actionwave.legislators.index import IndexCache, NoSnapshot, ZipIndex, load_index
from actionwave.legislators.sources import read_source
from actionwave.legislators.sync import DELEGATE_AREAS, store_snapshot
from actionwave.platform.db import make_engine, make_session_factory
from actionwave.system.schema import metadata
from actionwave.system.services import Services
from tests.conftest import SHARED_DATA

Seats = set[tuple[str, int]]


@pytest.fixture(scope="module")
def crosswalk() -> dict[str, Seats]:
    """The crosswalk as read here, independently of the code under test."""
    seats: dict[str, Seats] = defaultdict(set)
    with (SHARED_DATA / "zip-districts" / "zccd.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            seats[row["zcta"]].add((row["state_abbr"], int(row["cd"])))
    return seats


@pytest.fixture(scope="module")
def index(services: Services) -> Iterator[ZipIndex]:
    with services.session() as session:
        store_snapshot(session, read_source(str(SHARED_DATA)))
        yield load_index(session)


def names(people: list[dict]) -> list[str]:
    return [p["name"] for p in people]


def test_every_zcta_of_the_crosswalk_resolves_to_its_districts(index, crosswalk) -> None:
    for zcta, seats in crosswalk.items():
        answer = index.answer(zcta)
        assert answer is not None, zcta
        got = {(d["state"], d["district"]) for d in answer["districts"]}
        assert got == seats, zcta
        assert answer["ambiguous"] == (len(seats) > 1)
        assert len(answer["representatives"]) == len(seats)
        voting_states = {state for state, _ in seats} - DELEGATE_AREAS
        assert len(answer["senators"]) == 2 * len(voting_states), zcta


def test_split_at_large_and_delegate_counts_match_the_data(index, crosswalk) -> None:
    def count(predicate) -> tuple[int, int]:
        expected = sum(1 for seats in crosswalk.values() if predicate(seats))
        got = sum(1 for zcta in crosswalk if predicate(
            {(d["state"], d["district"]) for d in index.answer(zcta)["districts"]}))
        return expected, got

    split = count(lambda seats: len(seats) > 1)
    at_large = count(lambda seats: len(seats) == 1 and next(iter(seats))[1] == 0
                     and next(iter(seats))[0] not in DELEGATE_AREAS)
    delegate = count(lambda seats: {state for state, _ in seats} <= DELEGATE_AREAS)
    assert split == (7299, 7299)  # the figure the data's README states
    assert at_large[0] == at_large[1] > 0
    assert delegate[0] == delegate[1] > 0
    vacant = sum(1 for zcta in crosswalk for rep in index.answer(zcta)["representatives"]
                 if rep.get("vacant"))
    assert vacant > 0


def test_at_large_state_has_one_representative_and_two_senators(index) -> None:
    answer = index.answer("82001")
    assert answer["ambiguous"] is False
    assert answer["districts"] == [{"state": "WY", "district": 0}]
    assert names(answer["representatives"]) == ["Harriet M. Hageman"]
    assert answer["representatives"][0]["cwc_office"] == "HWY00"
    assert sorted(names(answer["senators"])) == ["Cynthia M. Lummis", "John Barrasso"]
    assert {s["cwc_office"] for s in answer["senators"]} == {"SWY01", "SWY02"}


def test_dc_has_a_delegate_and_no_senators(index) -> None:
    answer = index.answer("20001")
    assert answer["senators"] == []
    assert [(r["name"], r["cwc_office"]) for r in answer["representatives"]] == [
        ("Eleanor Holmes Norton", "HDC00")]


def test_island_zip_outside_the_crosswalk_gets_its_delegate(index) -> None:
    answer = index.answer("96910")
    assert answer["senators"] == []
    assert answer["representatives"][0]["state"] == "GU"


def test_split_zip_lists_every_candidate_district_and_representative(index) -> None:
    answer = index.answer("02139")
    assert answer["ambiguous"] is True
    assert answer["districts"] == [{"state": "MA", "district": 5}, {"state": "MA", "district": 7}]
    assert names(answer["representatives"]) == ["Katherine M. Clark", "Ayanna Pressley"]
    assert sorted(names(answer["senators"])) == ["Edward J. Markey", "Elizabeth Warren"]


def test_vacant_seat_is_marked_and_senators_still_show(index, crosswalk) -> None:
    zcta = next(z for z, seats in crosswalk.items() if seats == {("CA", 14)})
    answer = index.answer(zcta)
    assert answer["representatives"] == [{"state": "CA", "district": 14, "vacant": True}]
    assert len(answer["senators"]) == 2
    assert {s["state"] for s in answer["senators"]} == {"CA"}


def test_zip_crossing_a_state_line_shows_both_states(index) -> None:
    answer = index.answer("30165")
    assert answer["ambiguous"] is True
    assert answer["districts"] == [{"state": "AL", "district": 3}, {"state": "GA", "district": 14}]
    assert sorted({s["state"] for s in answer["senators"]}) == ["AL", "GA"]
    assert len(answer["senators"]) == 4


def test_unknown_zip_has_no_answer(index) -> None:
    assert index.answer("20500") is None


def test_legislator_fields_are_the_published_shape(index) -> None:
    person = index.answer("60601")["representatives"][0]
    assert list(person) == ["bioguide_id", "name", "chamber", "party", "state", "district",
                            "phone", "url", "contact_form", "twitter", "cwc_office", "offices"]
    assert person["cwc_office"] == "HIL07"
    # District offices to call, from legislators-district-offices.yaml: city, ZIP and phone.
    assert person["offices"] and set(person["offices"][0]) == {"city", "zip", "phone"}


def test_index_cache_follows_the_current_snapshot_and_checks_it_rarely(services, index) -> None:
    now = [0.0]
    cache = IndexCache(services.session_factory, check_every=10, clock=lambda: now[0])
    first = cache.get()
    assert first.snapshot_id == index.snapshot_id
    assert cache.get() is first
    with services.session() as session:
        store_snapshot(session, read_source(str(SHARED_DATA)))
    assert cache.get() is first  # not checked again yet
    now[0] = 11
    assert cache.get().snapshot_id > first.snapshot_id


def test_index_cache_without_a_snapshot_says_so(tmp_path) -> None:
    empty = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    metadata.create_all(empty)
    with pytest.raises(NoSnapshot):
        IndexCache(make_session_factory(empty)).get()
    empty.dispose()
