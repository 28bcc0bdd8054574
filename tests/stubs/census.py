"""A stub of the Census Geocoder's ``/geographies/onelineaddress`` endpoint.

Answers in the real response format: ``result.input`` echoing the benchmark and vintage, and per
address match ``matchedAddress``, ``coordinates``, ``addressComponents`` and ``geographies`` with a
``States`` layer and a ``119th Congressional Districts`` layer (``CD119``, ``GEOID``, ...).
``server.state["mode"]`` picks the behaviour: ``match`` (default), ``nomatch``, ``slow`` (longer
than any client timeout in the tests), ``error`` (502 with an HTML body, as the Census
load balancer sends), ``badrequest`` (400 with the Census ``errors`` list).
"""

from __future__ import annotations

import time
from typing import Any

from tests.stubs.base import StubHandler

STATE_FIPS = {"MA": "25", "WY": "56", "DC": "11", "CA": "06", "NY": "36"}
SLOW_SECONDS = 1.0


def census_input(address: str) -> dict[str, Any]:
    return {
        "address": {"address": address},
        "benchmark": {"isDefault": True, "benchmarkDescription": "Public Address Ranges - "
                      "Current Benchmark", "id": "4", "benchmarkName": "Public_AR_Current"},
        "vintage": {"isDefault": True, "id": "4", "vintageName": "Current_Current",
                    "vintageDescription": "Current Vintage - Current Benchmark"},
    }


def address_match(matched: str, state: str, district: int, zip_code: str) -> dict[str, Any]:
    """One entry of ``addressMatches``; ``district`` 98 is Census's delegate code."""
    fips = STATE_FIPS[state]
    cd = f"{district:02d}"
    return {
        "tigerLine": {"side": "L", "tigerLineId": "85710456"},
        "geographies": {
            "States": [{"STATENS": "00606926", "GEOID": fips, "CENTLAT": "+42.1565196",
                        "BASENAME": state, "STUSAB": state, "STATE": fips, "FUNCSTAT": "A",
                        "REGION": "1", "DIVISION": "1", "NAME": state, "MTFCC": "G4000",
                        "OBJECTID": 1, "OID": "27490331393474"}],
            "119th Congressional Districts": [{
                "GEOID": fips + cd, "CD119": cd, "CDSESSN": "119", "STATE": fips,
                "BASENAME": "Delegate District (at Large)" if district == 98 else str(district),
                "NAME": f"Congressional District {district}", "LSY": "2024", "FUNCSTAT": "N",
                "MTFCC": "G5200", "CDTYP": "", "AREALAND": 1040000, "AREAWATER": 0,
                "CENTLAT": "+42.3587", "CENTLON": "-071.0938", "INTPTLAT": "+42.3587",
                "INTPTLON": "-071.0938", "OBJECTID": 301, "OID": "27590331393474",
            }],
        },
        "coordinates": {"x": -71.09416, "y": 42.35999},
        "addressComponents": {"zip": zip_code, "streetName": "MASSACHUSETTS", "preType": "",
                              "city": "CAMBRIDGE", "preDirection": "", "suffixDirection": "",
                              "fromAddress": "1", "state": state, "suffixType": "AVE",
                              "toAddress": "99", "suffixQualifier": "", "preQualifier": ""},
        "matchedAddress": matched,
    }


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
        address = query.get("address", "")
        if mode == "slow":
            time.sleep(SLOW_SECONDS)
        if mode == "error":
            self._send_html(502, "<html><body><h1>502 Bad Gateway</h1></body></html>")
            return
        if mode == "badrequest":
            self.send_json(400, {"errors": ["Address cannot be empty and cannot exceed 100 "
                                            "characters"], "status": "400"})
            return
        matches = [] if mode == "nomatch" else [
            address_match(m["matched"], m["state"], m["district"], m["zip"])
            for m in self.server.state.get("matches", [])
        ]
        self.send_json(200, {"result": {"input": census_input(address),
                                        "addressMatches": matches}})

    def _send_html(self, status: int, html: str) -> None:
        raw = html.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)
