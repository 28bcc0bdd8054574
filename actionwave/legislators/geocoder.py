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

import dataclasses
import hashlib
import hmac
import json
import logging
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

import redis
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


class AnswerCache(Protocol):
    """Where ``CachedGeocoder`` keeps answers, by an opaque key (an HMAC of the address)."""

    def get(self, key: str) -> tuple[bool, Location | None]:
        """(True, answer) when ``key`` holds an unexpired answer (None: no single district),
        else (False, None)."""

    def put(self, key: str, answer: Location | None, ttl_seconds: float) -> None: ...


class LocalAnswers:
    """Answers in this process's memory, up to ``size`` keys, least recently used dropped first.
    Thread-safe. The embedded default's cache (one web process there)."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._answers: OrderedDict[str, tuple[float, Location | None]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[bool, Location | None]:
        with self._lock:
            hit = self._answers.get(key)
            if hit is None or hit[0] <= time.monotonic():
                return False, None
            self._answers.move_to_end(key)
            return True, hit[1]

    def put(self, key: str, answer: Location | None, ttl_seconds: float) -> None:
        with self._lock:
            self._answers[key] = (time.monotonic() + ttl_seconds, answer)
            self._answers.move_to_end(key)
            while len(self._answers) > self.size:
                self._answers.popitem(last=False)


class RedisAnswers:
    """Answers in Redis under ``<namespace>:geocoder:<key>``, shared by every process on the same
    Redis and namespace; Redis expires them. A Redis error counts as "not cached" (the lookup
    asks the geocoder) and is logged, never raised: a cache must not fail a supporter's page."""

    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self.client = client
        self.prefix = f"{namespace}:geocoder:"

    def get(self, key: str) -> tuple[bool, Location | None]:
        try:
            raw = self.client.get(self.prefix + key)
        except redis.RedisError as exc:
            log.warning("geocoder cache: %s; asking the geocoder", type(exc).__name__)
            return False, None
        if raw is None:
            return False, None
        value = json.loads(raw)
        return True, Location(**value) if value else None

    def put(self, key: str, answer: Location | None, ttl_seconds: float) -> None:
        value = json.dumps(dataclasses.asdict(answer) if answer else None)
        try:
            self.client.set(self.prefix + key, value, px=max(1, int(ttl_seconds * 1000)))
        except redis.RedisError as exc:
            log.warning("geocoder cache: %s; answer not kept", type(exc).__name__)


class CachedGeocoder:
    """Remembers another geocoder's answers, so a flood of one address reaches the provider once:
    a district for ``ttl_seconds``, "no single district" (a bad address) for
    ``miss_ttl_seconds``. A failure (``GeocoderUnavailable``) is not remembered. Keys are HMACs
    keyed by ``secret`` of the address normalised for case and spacing: addresses are personal
    data and never appear in a key (Redis's keys are easier to list than its values)."""

    def __init__(self, inner: Geocoder, answers: AnswerCache | None = None, secret: str = "",
                 ttl_seconds: float = 3600, miss_ttl_seconds: float = 300) -> None:
        self.inner = inner
        self.answers = answers or LocalAnswers()
        self.secret = secret.encode()
        self.ttl = ttl_seconds
        self.miss_ttl = miss_ttl_seconds

    def key(self, address: str) -> str:
        normalised = " ".join(address.lower().split())
        return hmac.new(self.secret, normalised.encode(), hashlib.sha256).hexdigest()

    def locate(self, address: str) -> Location | None:
        key = self.key(address)
        found, answer = self.answers.get(key)
        if found:
            return answer
        answer = self.inner.locate(address)
        self.answers.put(key, answer, self.ttl if answer else self.miss_ttl)
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
