"""``resolve_actions``: an accepted action becomes Target rows and a status, once."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import event, select

from actionwave.core.models import Action, Campaign, Supporter, Target
from actionwave.intake.resolution import resolve_actions
from actionwave.intake.submissions import ActionForm, submit_action
from actionwave.legislators.geocoder import CensusGeocoder
from actionwave.legislators.sources import read_source
from actionwave.legislators.sync import store_snapshot
from tests.conftest import SHARED_DATA
from tests.stubs.base import StubServer, serve
from tests.stubs.census import CensusHandler
from tests.support import resolve_action


@pytest.fixture(scope="module", autouse=True)
def snapshot(services) -> None:  # type: ignore[no-untyped-def]
    with services.session() as session:
        store_snapshot(session, read_source(str(SHARED_DATA)))


@pytest.fixture
def census() -> Iterator[StubServer]:
    with serve(CensusHandler) as server:
        yield server


def submit(session, slug: str, zip_code: str, **extra) -> Action:  # type: ignore[no-untyped-def]
    extra.setdefault("email", f"s{zip_code}@example.org")
    form = ActionForm(first_name="Ada", last_name="Lee", zip=zip_code, **extra)
    return session.get(Action, submit_action(session, slug, form).action_id)


def test_single_district_zip_resolves_to_two_senators_and_a_representative(
        db_session, campaign_slug) -> None:
    action = submit(db_session, campaign_slug, "82001")
    targets = resolve_action(db_session, action.id)
    assert sorted((t.chamber, t.cwc_office) for t in targets) == [
        ("house", "HWY00"), ("senate", "SWY01"), ("senate", "SWY02")]
    db_session.refresh(action)
    assert action.status == "resolved" and action.resolved_at is not None


def test_resolving_twice_changes_nothing(db_session, campaign_slug) -> None:
    action = submit(db_session, campaign_slug, "82001")
    first = resolve_action(db_session, action.id)
    again = resolve_action(db_session, action.id)
    assert [t.id for t in again] == [t.id for t in first]


def test_split_zip_without_address_needs_address_and_keeps_the_senators(
        db_session, campaign_slug) -> None:
    action = submit(db_session, campaign_slug, "02139")
    targets = resolve_action(db_session, action.id)
    assert {t.chamber for t in targets} == {"senate"} and len(targets) == 2
    db_session.refresh(action)
    assert action.status == "needs_address"


def test_split_zip_with_chosen_district_resolves(db_session, campaign_slug) -> None:
    action = submit(db_session, campaign_slug, "02139", district=5)
    targets = resolve_action(db_session, action.id)
    assert "Katherine M. Clark" in {t.name for t in targets}
    db_session.refresh(action)
    assert action.status == "resolved"


def test_split_zip_with_address_resolves_through_the_geocoder(
        db_session, campaign_slug, census) -> None:
    census.state["matches"] = [{"matched": "77 MASSACHUSETTS AVE", "state": "MA",
                                "district": 7, "zip": "02139"}]
    action = submit(db_session, campaign_slug, "02139", address="77 Massachusetts Ave")
    targets = resolve_action(db_session, action.id, CensusGeocoder(census.url, 0.5))
    assert "Ayanna Pressley" in {t.name for t in targets}
    assert census.state["queries"][0]["address"] == "77 Massachusetts Ave, 02139"


def test_vacant_seat_resolves_to_the_senators_only(db_session, campaign_slug) -> None:
    action = submit(db_session, campaign_slug, "94541")
    targets = resolve_action(db_session, action.id)
    assert [t.chamber for t in targets] == ["senate", "senate"]
    db_session.refresh(action)
    assert action.status == "resolved"


def test_campaign_chambers_limit_the_targets(db_session, campaign_slug) -> None:
    campaign = db_session.scalar(select(Campaign).where(Campaign.slug == campaign_slug))
    campaign.target_chambers = ["house"]
    db_session.commit()
    action = submit(db_session, campaign_slug, "82001")
    assert [t.cwc_office for t in resolve_action(db_session, action.id)] == ["HWY00"]


def test_unknown_zip_needs_address(db_session, campaign_slug) -> None:
    action = submit(db_session, campaign_slug, "20500")
    assert resolve_action(db_session, action.id) == []
    db_session.refresh(action)
    assert action.status == "needs_address"
    assert action.details["resolved_by"] == "zip_not_found"
    assert db_session.scalar(select(Target).where(Target.action_id == action.id)) is None


def test_a_batch_resolves_each_action_in_a_few_statements_whatever_its_size(
        db_session, campaign_slug, services) -> None:
    done = submit(db_session, campaign_slug, "82001")
    resolve_action(db_session, done.id)
    zips = ["82001", "02139", "94541", "20500"] * 5
    batch = [submit(db_session, campaign_slug, z, email=f"b{n}@example.org")
             for n, z in enumerate(zips)]
    index = services.legislators.get(db_session)  # as the task passes it
    unknown = uuid.uuid4()
    ids = [done.id, unknown] + [a.id for a in batch]
    statements: list[str] = []

    def listener(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(db_session.connection(), "before_cursor_execute", listener)
    try:
        resolved = resolve_actions(db_session, ids, index=index)
    finally:
        event.remove(db_session.connection(), "before_cursor_execute", listener)
    assert len(statements) <= 7  # actions, supporters, campaigns, targets, status, districts, read
    assert [action_id for action_id, _ in resolved] == ids
    by_id = dict(resolved)
    assert by_id[unknown] == []
    assert sorted(t.cwc_office for t in by_id[done.id]) == ["HWY00", "SWY01", "SWY02"]
    expected = {"82001": ("resolved", 3), "02139": ("needs_address", 2),
                "94541": ("resolved", 2), "20500": ("needs_address", 0)}
    for action, zip_code in zip(batch, zips, strict=True):
        db_session.refresh(action)
        assert (action.status, len(by_id[action.id])) == expected[zip_code]


def test_a_fresh_batch_takes_its_targets_from_the_insert_without_reading_them_back(
        db_session, campaign_slug, services) -> None:
    # Read back by ``action_id IN (...)``, they cost a scan of the whole table whenever
    # PostgreSQL has no statistics yet (a fresh database on launch day).
    batch = [submit(db_session, campaign_slug, "82001", email=f"f{n}@example.org")
             for n in range(4)]
    statements: list[str] = []

    def listener(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(db_session.connection(), "before_cursor_execute", listener)
    try:
        resolved = resolve_actions(db_session, [a.id for a in batch],
                                   index=services.legislators.get(db_session))
    finally:
        event.remove(db_session.connection(), "before_cursor_execute", listener)
    assert not [s for s in statements if s.startswith("SELECT") and "FROM targets" in s]
    for action, (action_id, targets) in zip(batch, resolved, strict=True):
        assert action_id == action.id
        assert [t.chamber for t in targets] == ["senate", "senate", "house"]
        assert [t.id for t in targets] == sorted(t.id for t in targets)
        assert all(t.action_id == action.id for t in targets)


def test_a_worker_racing_another_for_the_same_action_returns_the_targets_the_other_stored(
        services, campaign_slug) -> None:
    with services.session() as session:
        action_id = submit(session, campaign_slug, "82001", email="race@example.org").id
    index = services.legislators.get()
    first, second = services.session(), services.session()
    try:
        [(_, mine)] = resolve_actions(first, [action_id], index=index)  # not committed yet
        second_pid = second.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with ThreadPoolExecutor(1) as pool:
            # The second worker still finds the action ``accepted`` and waits on the first's
            # row locks; once the first commits, its inserts and update change nothing.
            racing = pool.submit(resolve_actions, second, [action_id], index=index)
            _wait_until_blocked(services, second_pid)
            first.commit()
            [(_, theirs)] = racing.result(timeout=30)
        assert len(mine) == 3
        assert [(t.id, t.bioguide_id) for t in theirs] == [(t.id, t.bioguide_id) for t in mine]
    finally:
        first.close()
        second.close()


def _wait_until_blocked(services, pid: int) -> None:  # type: ignore[no-untyped-def]
    with services.engine.connect() as conn:
        for _ in range(200):
            waiting = conn.exec_driver_sql(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)).scalar()
            if waiting == "Lock":
                return
            time.sleep(0.05)
    raise AssertionError("the second worker never waited for the first")


@pytest.mark.parametrize(("zip_code", "typed", "district", "stored"), [
    ("94110", None, None, ("CA", 11)),  # the ZIP lies in one state: derived, nothing typed
    ("94110", "NY", None, ("CA", 11)),  # the ZIP wins over a mistyped state
    ("30165", None, None, (None, None)),  # Georgia or Alabama: unknown, never a guess
    ("30165", None, 14, ("GA", 14)),  # ... until a district is chosen
])
def test_the_supporters_state_is_derived_and_stored(db_session, campaign_slug, zip_code: str,  # type: ignore[no-untyped-def]
                                                    typed: str | None, district: int | None,
                                                    stored: tuple[str | None, int | None]) -> None:
    action = submit(db_session, campaign_slug, zip_code, state=typed, district=district)
    resolve_action(db_session, action.id)
    db_session.flush()
    supporter = db_session.get(Supporter, action.supporter_id)
    db_session.refresh(supporter)
    assert (supporter.state, supporter.district) == stored
