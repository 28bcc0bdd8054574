"""Street address → congressional district, behind the small ``Geocoder`` protocol.

The real provider is the U.S. Census Geocoder (free, no key). Its ``geographies`` endpoints
return, for each address match, the census geographies containing it, but only blocks, tracts,
counties and states unless ``layers`` asks for more (``census_address_default_layers.json`` in
the references): the request names the congressional district layer (``GEOCODER_LAYERS``, by
default ``54``, the Current vintage's "119th Congressional Districts"). The layer is found in the
answer by its name's pattern, so it survives the next redistricting. An answer without it, or
whose district record is an error status (as real answers sometimes are:
``census_onelineaddress_layers_all.json``), is a miss: the caller falls back to the ZIP. Census
codes a delegate's district ``98`` and an at-large one ``00``; both become district 0, as in the
legislator data.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

import requests

ENDPOINT = "/geographies/onelineaddress"
BENCHMARK = "Public_AR_Current"
VINTAGE = "Current_Current"
DISTRICT_LAYER = re.compile(r"congressional district", re.IGNORECASE)
DISTRICT_FIELD = re.compile(r"^CD\d+$")
DELEGATE_CODE = 98
DEFAULT_LAYERS = "54"

log = logging.getLogger(__name__)


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
                 session: requests.Session | None = None, layers: str = DEFAULT_LAYERS) -> None:
        self.url = base_url.rstrip("/") + ENDPOINT
        self.timeout = timeout
        self.http = session or requests.Session()
        self.layers = layers

    def locate(self, address: str) -> Location | None:
        params = {"address": address, "benchmark": BENCHMARK, "vintage": VINTAGE,
                  "layers": self.layers, "format": "json"}
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


class CachedGeocoder:
    """Remembers another geocoder's answers (a district, or "no single district") for
    ``ttl_seconds``, up to ``size`` addresses per process, so a flood of one address reaches the
    provider once. Keys are addresses normalised for case and spacing, kept only in memory. A
    failure (``GeocoderUnavailable``) is not remembered. Thread-safe."""

    def __init__(self, inner: Geocoder, size: int = 10_000, ttl_seconds: float = 3600) -> None:
        self.inner = inner
        self.size = size
        self.ttl = ttl_seconds
        self._answers: OrderedDict[str, tuple[float, Location | None]] = OrderedDict()
        self._lock = threading.Lock()

    def locate(self, address: str) -> Location | None:
        key = " ".join(address.lower().split())
        now = time.monotonic()
        with self._lock:
            hit = self._answers.get(key)
            if hit is not None and hit[0] > now:
                self._answers.move_to_end(key)
                return hit[1]
        answer = self.inner.locate(address)
        with self._lock:
            self._answers[key] = (now + self.ttl, answer)
            self._answers.move_to_end(key)
            while len(self._answers) > self.size:
                self._answers.popitem(last=False)
        return answer


def location_from_response(payload: Any) -> Location | None:
    """The single district of a Census ``geographies`` answer; None if none or several (no
    district layer, an error-status district record, matches in different districts)."""
    try:
        matches = payload["result"]["addressMatches"]
    except (KeyError, TypeError) as exc:
        raise GeocoderUnavailable("census geocoder: unexpected answer") from exc
    if not isinstance(matches, list):
        raise GeocoderUnavailable("census geocoder: unexpected answer")
    found = {location for match in matches if (location := _match_location(match))}
    seats = {(loc.state, loc.district) for loc in found}
    if len(seats) != 1:
        return None
    return min(found, key=lambda loc: loc.matched_address)


def _match_location(match: Any) -> Location | None:
    if not isinstance(match, dict):
        return None
    geographies = match.get("geographies") or {}
    layers = [records for name, records in geographies.items()
              if DISTRICT_LAYER.search(name) and isinstance(records, list)]
    if not layers:
        log.warning("census geocoder: the answer has no congressional district layer "
                    "(check GEOCODER_LAYERS); answering by ZIP")
        return None
    records = [r for layer in layers for r in layer if isinstance(r, dict) and "status" not in r]
    states = geographies.get("States") or []
    state = (states[0].get("STUSAB") if states and isinstance(states[0], dict) else None) or (
        match.get("addressComponents") or {}).get("state")
    if len(records) != 1 or not state:
        return None  # an error-status record (or several districts) decides nothing
    record = records[0]
    code = next((str(v) for k, v in record.items() if DISTRICT_FIELD.match(k)), None)
    code = code if code and code.isdigit() else str(record.get("BASENAME", ""))
    if not code.isdigit():
        return None
    district = int(code)
    if district == DELEGATE_CODE:
        district = 0
    return Location(state=state, district=district,
                    matched_address=str(match.get("matchedAddress", "")))
