"""Street address → congressional district, behind the small ``Geocoder`` protocol.

The real provider is the U.S. Census Geocoder (free, no key). Its ``geographies`` endpoints
return, for each address match, the census geographies containing it; the congressional district
layer is named after the Congress (``"119th Congressional Districts"``, field ``CD119``), so it is
found by pattern and survives the next redistricting. Census codes a delegate's district ``98``
and an at-large one ``00``; both become district 0, as in the legislator data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

import requests

ENDPOINT = "/geographies/onelineaddress"
BENCHMARK = "Public_AR_Current"
VINTAGE = "Current_Current"
DISTRICT_LAYER = re.compile(r"congressional district", re.IGNORECASE)
DISTRICT_FIELD = re.compile(r"^CD\d+$")
DELEGATE_CODE = 98


@dataclass(frozen=True)
class Location:
    """Where an address lies: a state (USPS code) and a district (0: at-large or delegate)."""

    state: str
    district: int
    matched_address: str


class GeocoderUnavailable(RuntimeError):
    """The geocoder failed or timed out; the caller falls back to the ZIP answer."""


class Geocoder(Protocol):
    def locate(self, address: str) -> Location | None:
        """The address's district, or None when no single district matches it.

        Raises ``GeocoderUnavailable`` when the provider can't answer.
        """


class CensusGeocoder:
    """The Census Geocoder over HTTP (``requests``), with a hard timeout per call."""

    def __init__(self, base_url: str, timeout: float,
                 session: requests.Session | None = None) -> None:
        self.url = base_url.rstrip("/") + ENDPOINT
        self.timeout = timeout
        self.http = session or requests.Session()

    def locate(self, address: str) -> Location | None:
        params = {"address": address, "benchmark": BENCHMARK, "vintage": VINTAGE,
                  "format": "json"}
        try:
            response = self.http.get(self.url, params=params, timeout=self.timeout)
        except requests.RequestException as exc:
            raise GeocoderUnavailable(f"census geocoder: {type(exc).__name__}") from exc
        if response.status_code == 400:
            return None  # Census answers 400 to an address it cannot parse
        if response.status_code != 200:
            raise GeocoderUnavailable(f"census geocoder: HTTP {response.status_code}")
        try:
            payload = response.json()
        except ValueError as exc:
            raise GeocoderUnavailable("census geocoder: the answer is not JSON") from exc
        return location_from_response(payload)


def location_from_response(payload: Any) -> Location | None:
    """The single district of a Census ``geographies`` answer; None if none or several."""
    try:
        matches = payload["result"]["addressMatches"]
    except (KeyError, TypeError) as exc:
        raise GeocoderUnavailable("census geocoder: unexpected answer") from exc
    found = {location for match in matches if (location := _match_location(match))}
    seats = {(loc.state, loc.district) for loc in found}
    if len(seats) != 1:
        return None
    return min(found, key=lambda loc: loc.matched_address)


def _match_location(match: dict[str, Any]) -> Location | None:
    geographies = match.get("geographies") or {}
    layer = next((v for k, v in geographies.items() if DISTRICT_LAYER.search(k) and v), None)
    states = geographies.get("States") or []
    state = (states[0].get("STUSAB") if states else None) or (
        match.get("addressComponents") or {}).get("state")
    if not layer or not state:
        return None
    record = layer[0]
    code = next((str(v) for k, v in record.items() if DISTRICT_FIELD.match(k)), None)
    code = code if code and code.isdigit() else str(record.get("BASENAME", ""))
    if not code.isdigit():
        return None
    district = int(code)
    if district == DELEGATE_CODE:
        district = 0
    return Location(state=state, district=district,
                    matched_address=str(match.get("matchedAddress", "")))
