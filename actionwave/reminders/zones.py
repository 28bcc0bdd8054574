"""Quiet hours in the supporter's own time zone, and the zones a supporter may be in.

We know a supporter's place as far as their state (``actionwave.intake.resolution`` derives it from
the ZIP or the district). A reminder may go only when it is outside quiet hours in *every* zone the
supporter may be in, which is the safest reading when the zone is not certain:

- a state within one zone: that zone;
- a state spanning zones (``STATE_ZONES`` lists them all): each of them, so the reminder waits
  until the state's latest clock is past the morning, and stops before its earliest reaches night;
- an unknown state (a ZIP outside the crosswalk, or one spanning two states with nothing to decide
  it): every zone of the states, the District, Puerto Rico and the Virgin Islands. The Pacific
  territories are left out: their ZIPs always resolve (``legislators.index.ISLAND_ZIPS`` covers
  their USPS ranges), and at UTC+10 they would leave no hour outside quiet hours everywhere.

Never Eastern by default. The county would narrow a split state, but the ZIP crosswalk has no
counties and the geocoder is asked only for split ZIPs, so the state is where we stop.

Sources: the IANA time zone database's ``zone1970.tab`` (2025b: the zones of the United States and
the areas each covers) and the U.S. standard time zone boundaries (49 CFR part 71, as drawn on
the Department of Transportation's time zone map) for which states they split: AK (Aleutians west
of 169°30'W on Hawaii-Aleutian time), AZ (the Navajo Nation keeps daylight time), FL (the
panhandle west of the Apalachicola), ID (the north), IN, KS, KY, MI (four Upper Peninsula
counties), NE, NV (West Wendover), ND, OR (Malheur County), SD, TN and TX (El Paso, Hudspeth).
Zones that differ only in history (America/Detroit and America/New_York today) are listed once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

EASTERN, CENTRAL, MOUNTAIN = "America/New_York", "America/Chicago", "America/Denver"
ARIZONA, PACIFIC, ALASKA = "America/Phoenix", "America/Los_Angeles", "America/Anchorage"
ALEUTIAN, HAWAII = "America/Adak", "Pacific/Honolulu"

STATE_ZONES: dict[str, tuple[str, ...]] = {
    "AL": (CENTRAL,), "AK": (ALASKA, ALEUTIAN), "AZ": (ARIZONA, MOUNTAIN),
    "AR": (CENTRAL,), "CA": (PACIFIC,), "CO": (MOUNTAIN,), "CT": (EASTERN,), "DE": (EASTERN,),
    "DC": (EASTERN,), "FL": (EASTERN, CENTRAL), "GA": (EASTERN,), "HI": (HAWAII,),
    "ID": (MOUNTAIN, PACIFIC), "IL": (CENTRAL,), "IN": (EASTERN, CENTRAL), "IA": (CENTRAL,),
    "KS": (CENTRAL, MOUNTAIN), "KY": (EASTERN, CENTRAL), "LA": (CENTRAL,), "ME": (EASTERN,),
    "MD": (EASTERN,), "MA": (EASTERN,), "MI": (EASTERN, CENTRAL), "MN": (CENTRAL,),
    "MS": (CENTRAL,), "MO": (CENTRAL,), "MT": (MOUNTAIN,), "NE": (CENTRAL, MOUNTAIN),
    "NV": (PACIFIC, MOUNTAIN), "NH": (EASTERN,), "NJ": (EASTERN,), "NM": (MOUNTAIN,),
    "NY": (EASTERN,), "NC": (EASTERN,), "ND": (CENTRAL, MOUNTAIN), "OH": (EASTERN,),
    "OK": (CENTRAL,), "OR": (PACIFIC, MOUNTAIN), "PA": (EASTERN,), "RI": (EASTERN,),
    "SC": (EASTERN,), "SD": (CENTRAL, MOUNTAIN), "TN": (CENTRAL, EASTERN),
    "TX": (CENTRAL, MOUNTAIN), "UT": (MOUNTAIN,), "VT": (EASTERN,), "VA": (EASTERN,),
    "WA": (PACIFIC,), "WV": (EASTERN,), "WI": (CENTRAL,), "WY": (MOUNTAIN,),
    "PR": ("America/Puerto_Rico",), "VI": ("America/St_Thomas",), "GU": ("Pacific/Guam",),
    "MP": ("Pacific/Saipan",), "AS": ("Pacific/Pago_Pago",),
}
UNKNOWN_STATE_ZONES: tuple[str, ...] = tuple(dict.fromkeys(
    zone for state, zones in STATE_ZONES.items() if state not in ("GU", "MP", "AS")
    for zone in zones))
# Every U.S. zone is a whole number of hours from UTC, so quiet hours begin and end on whole UTC
# hours: trying each coming hour finds the first open one exactly.
SEARCH_HOURS = 48


def zones_for(state: str | None) -> tuple[ZoneInfo, ...]:
    """Every zone a supporter in ``state`` may be in (``UNKNOWN_STATE_ZONES`` when unknown)."""
    names = STATE_ZONES.get((state or "").upper(), UNKNOWN_STATE_ZONES)
    return tuple(ZoneInfo(name) for name in names)


@dataclass(frozen=True)
class QuietHours:
    """Local hours from ``start`` to ``end`` (wrapping past midnight when ``start > end``) when
    no reminder goes out; ``start == end`` means none."""

    start: int = 21
    end: int = 9

    def quiet(self, local_hour: int) -> bool:
        if self.start == self.end:
            return False
        if self.start > self.end:
            return local_hour >= self.start or local_hour < self.end
        return self.start <= local_hour < self.end

    def open_everywhere(self, when: datetime, zones: tuple[ZoneInfo, ...]) -> bool:
        return not any(self.quiet(when.astimezone(zone).hour) for zone in zones)

    def next_allowed(self, now: datetime, state: str | None) -> datetime | None:
        """None if ``now`` is outside quiet hours in every zone of ``state``, else the first
        moment (UTC) when it is; if there is none within two days (quiet hours too long for the
        state's zones), two days on, to look again then. Never a moment inside quiet hours."""
        zones = zones_for(state)
        if self.open_everywhere(now, zones):
            return None
        hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        for step in range(1, SEARCH_HOURS + 1):
            candidate = hour + timedelta(hours=step)
            if self.open_everywhere(candidate, zones):
                return candidate
        return hour + timedelta(hours=SEARCH_HOURS)
