"""Quiet hours in every zone a supporter may be in: never Eastern by default."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from actionwave.intake.submissions import STATES
from actionwave.reminders.zones import (
    STATE_ZONES,
    UNKNOWN_STATE_ZONES,
    QuietHours,
    zones_for,
)

QUIET = QuietHours(21, 9)
WINTER = datetime(2030, 1, 15, tzinfo=UTC)  # standard time everywhere


def at(hour: int, minute: int = 0) -> datetime:
    return WINTER.replace(hour=hour, minute=minute)


def test_every_state_and_territory_the_intake_accepts_has_its_zones() -> None:
    assert set(STATE_ZONES) == STATES
    for zones in STATE_ZONES.values():
        assert all(ZoneInfo(name) for name in zones)


def test_a_californian_is_not_mailed_at_2_42_in_the_morning() -> None:
    # 10:42 UTC is 05:42 in New York (quiet) and 02:42 in California.
    assert QUIET.next_allowed(at(10, 42), "CA") == at(17)  # 09:00 PST
    assert QUIET.next_allowed(at(17), "CA") is None


def test_an_unknown_state_waits_for_every_zone_and_never_defaults_to_eastern() -> None:
    # 15:00 UTC: 10:00 in New York, 07:00 in California, 05:00 in Hawaii.
    assert QUIET.next_allowed(at(15), "NY") is None
    assert QUIET.next_allowed(at(15), None) == at(19)  # 09:00 in Hawaii
    # 01:30 UTC: 20:30 in New York, but 21:30 in Puerto Rico.
    assert QUIET.next_allowed(at(1, 30), None) == at(19)
    assert {"America/New_York", "Pacific/Honolulu", "America/Puerto_Rico", "America/Adak"} <= set(
        UNKNOWN_STATE_ZONES)
    assert "Pacific/Guam" not in UNKNOWN_STATE_ZONES


@pytest.mark.parametrize(("state", "opens"), [
    ("TX", 16),  # Central 10:00 but El Paso (Mountain) 09:00 only at 16:00 UTC
    ("FL", 15),  # the panhandle (Central) reaches 09:00 an hour after Miami
    ("IN", 15), ("KY", 15), ("TN", 15), ("MI", 15),
    ("ND", 16), ("SD", 16), ("NE", 16), ("KS", 16), ("ID", 17), ("OR", 17), ("NV", 17),
    ("AK", 19),  # the Aleutians keep Hawaii-Aleutian time
])
def test_a_state_spanning_zones_opens_when_its_latest_clock_reaches_morning(state: str,
                                                                           opens: int) -> None:
    assert QUIET.next_allowed(at(13), state) == at(opens)


def test_a_state_spanning_zones_closes_when_its_earliest_clock_reaches_night() -> None:
    # 02:00 UTC in January: 20:00 in Chicago, 21:00 in New York: Tennessee is closed.
    assert QUIET.next_allowed(at(2), "IL") is None
    assert QUIET.next_allowed(at(2), "TN") == at(15)


def test_arizona_counts_the_navajo_nations_daylight_time() -> None:
    summer = datetime(2030, 7, 15, 15, tzinfo=UTC)  # 08:00 in Phoenix, 09:00 in Window Rock
    assert len(zones_for("AZ")) == 2
    assert QUIET.next_allowed(summer, "AZ") == summer.replace(hour=16)


def test_quiet_hours_may_be_a_daytime_window_or_none() -> None:
    assert QuietHours(9, 9).next_allowed(at(8), "CA") is None
    lunch = QuietHours(12, 13)
    assert lunch.next_allowed(at(20), "CA") == at(21)  # 12:00 PST
    assert lunch.next_allowed(at(21), "CA") is None


def test_hours_that_leave_no_common_time_defer_two_days_never_send() -> None:
    always = QuietHours(10, 9)  # one open hour a day
    later = always.next_allowed(at(0), None)
    assert later is not None and (later - at(0)).days == 2
