"""A stub of the Census Geocoder's ``/geographies/onelineaddress``, built from its real answers.

It answers the way the real service does (``shared/data/reference/census_*.json``): without a
``layers`` parameter, only the default layers of the recorded default answer (2010 Census Blocks,
Census Tracts, Counties, States) and **no congressional district**; with ``layers=54`` (the
Current vintage's "119th Congressional Districts") or ``layers=all`` (every layer of the recorded
``layers=all`` answer), also a district layer shaped like the recorded layers' records
(``GEOID``, ``CD119``, ``BASENAME``, ``OID``, ...). Each match is one of ``state["matches"]``
(``matched``, ``state``, ``district``, ``zip``; district 98 is Census's delegate code).

``state["mode"]``: ``match`` (default), ``nomatch``, ``layer_error`` (the district layer holds the
error-status record of the recorded ``layers=all`` answer), ``slow`` (longer than any client
timeout in the tests), ``error`` (502 with an HTML body, as the Census load balancer sends),
``badrequest`` (400 with the Census ``errors`` list).
"""

from __future__ import annotations

import copy
import json
import time
from typing import Any

from tests.stubs.base import REFERENCE, StubHandler

DEFAULT_ANSWER = json.loads((REFERENCE / "census_address_default_layers.json").read_text())
ALL_ANSWER = json.loads((REFERENCE / "census_onelineaddress_layers_all.json").read_text())
RECORDED_DISTRICTS = "115th Congressional Districts"
DISTRICTS = "119th Congressional Districts"
DISTRICT_LAYER_ID = "54"
SLOW_SECONDS = 1.0
STATE_FIPS = dict(zip(
    ("AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH "
     "NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY AS GU MP PR VI").split(),
    ("01 02 04 05 06 08 09 10 11 12 13 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 "
     "34 35 36 37 38 39 40 41 42 44 45 46 47 48 49 50 51 53 54 55 56 60 66 69 72 78").split(),
    strict=True))


def district_record(state: str, district: int) -> dict[str, Any]:
    """A district layer record with the fields the recorded layers' records carry."""
    fips, cd = STATE_FIPS[state], f"{district:02d}"
    template = ALL_ANSWER["response"]["result"]["addressMatches"][0]["geographies"]["Counties"][0]
    return {**template, "STATE": fips, "GEOID": fips + cd, "CD119": cd, "CDSESSN": "119",
            "BASENAME": "Delegate District (at Large)" if district == 98 else str(district),
            "NAME": f"Congressional District {district}", "MTFCC": "G5200", "FUNCSTAT": "N",
            "LSADC": "C2", "OBJECTID": 301}


def address_match(match: dict[str, Any], layers: str, mode: str) -> dict[str, Any]:
    """One entry of ``addressMatches`` for ``match``, with the layers ``layers`` asks for."""
    recorded = (ALL_ANSWER if layers else DEFAULT_ANSWER)["response"]["result"]
    entry = copy.deepcopy(recorded["addressMatches"][0])
    geographies = entry["geographies"] if layers == "all" else {
        name: entry["geographies"][name] for name in
        ("2010 Census Blocks", "Census Tracts", "Counties", "States")}
    error_record = geographies.pop(RECORDED_DISTRICTS, None) or ALL_ANSWER["response"]["result"][
        "addressMatches"][0]["geographies"][RECORDED_DISTRICTS]
    if layers == "all" or DISTRICT_LAYER_ID in layers.split(","):
        geographies[DISTRICTS] = (error_record if mode == "layer_error"
                                  else [district_record(match["state"], match["district"])])
    for record in geographies["States"]:
        record.update(STATE=STATE_FIPS[match["state"]], STUSAB=match["state"],
                      GEOID=STATE_FIPS[match["state"]], BASENAME=match["state"],
                      NAME=match["state"])
    entry["geographies"] = geographies
    entry["matchedAddress"] = match["matched"]
    entry["addressComponents"].update(zip=match["zip"], state=match["state"])
    return entry


class CensusHandler(StubHandler):
    """Routes ``GET /geographies/onelineaddress``; records each query in ``state["queries"]``."""

    def handle_request(self, method: str) -> None:
        if method != "GET" or self.path_only != "/geographies/onelineaddress":
            self.send_json(404, {"errors": ["not found"], "status": "404"})
            return
        query = {k: v[0] for k, v in self.query.items()}
        with self.server.lock:
            self.server.state.setdefault("queries", []).append(query)
        mode = self.server.state.get("mode", "match")
        if mode == "slow":
            time.sleep(SLOW_SECONDS)
        if mode == "error":
            self._send_html(502, "<html><body><h1>502 Bad Gateway</h1></body></html>")
            return
        if mode == "badrequest":
            self.send_json(400, {"errors": ["Address cannot be empty and cannot exceed 100 "
                                            "characters"], "status": "400"})
            return
        layers = query.get("layers", "")
        matches = [] if mode == "nomatch" else [
            address_match(m, layers, mode) for m in self.server.state.get("matches", [])]
        result = copy.deepcopy(ALL_ANSWER["response"]["result"]["input"])
        result["address"] = {"address": query.get("address", "")}
        self.send_json(200, {"result": {"input": result, "addressMatches": matches}})

    def _send_html(self, status: int, html: str) -> None:
        raw = html.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)
