"""A stub of the congress.gov API v3 bill endpoints, serving the real recorded responses.

``GET /v3/bill/{congress}/{type}/{number}/actions`` pages with ``limit``/``offset`` (capped at
``page_size``) and answers ``pagination.next`` like the real API; ``GET /v3/bill/{congress}/{type}``
filters by ``fromDateTime``/``toDateTime`` on each bill's ``updateDate``. Requests without
``X-Api-Key`` get api.data.gov's 403; ``fail_with_429(times, retry_after)`` answers 429.

``BillReplay`` walks a bill through real states built from the recorded H.R. 21 actions:
introduced -> in committee -> passed House -> received in Senate.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from tests.stubs.base import StubHandler, StubServer

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("ACTIONWAVE_SHARED_DATA", ROOT.parent / "shared" / "data"))
RECORDED = DATA / "congress-gov-api"
API_KEY = "congress-test-key"
RATE_LIMITED = {"error": {"code": "OVER_RATE_LIMIT", "message": (
    "You have exceeded your rate limit. Try again later or contact us at "
    "https://api.congress.gov/contact/ for assistance")}}
KEY_MISSING = {"error": {"code": "API_KEY_MISSING", "message": (
    "No api_key was supplied. Get one at https://api.congress.gov/sign-up/")}}


def _recorded(name: str) -> dict[str, Any]:
    return json.loads((RECORDED / name).read_text())


def recorded_bills() -> dict[tuple[str, str, str], dict[str, Any]]:
    """The bills whose actions were recorded, keyed by (congress, type, number)."""
    detail = _recorded("loc_bill_117_hr_21.json")["bill"]
    return {
        ("117", "hr", "21"): {"actions": _recorded("loc_bill_117_hr_21_actions.json")["actions"],
                              "updateDate": detail["updateDate"], "title": detail["title"]},
        ("117", "hr", "3076"): {
            "actions": _recorded("ck_bill_117_hr_3076_actions_page1.json")["actions"],
            "updateDate": _recorded("ck_bill_117_hr_3076.json")["bill"]["updateDate"],
            "title": _recorded("ck_bill_117_hr_3076.json")["bill"]["title"]},
    }


class CongressHandler(StubHandler):
    def handle_request(self, method: str) -> None:
        state = self.server.state
        with self.server.lock:
            state["requests"].append(self.path)
            if not self.headers.get("X-Api-Key"):
                self.send_json(403, KEY_MISSING)
                return
            if state["fail_429"] > 0:
                state["fail_429"] -= 1
                self.send_json(429, RATE_LIMITED, {"Retry-After": str(state["retry_after"])})
                return
        parts = self.path_only.strip("/").split("/")
        if method == "GET" and len(parts) == 6 and parts[:2] == ["v3", "bill"] \
                and parts[5] == "actions":
            self._actions(tuple(parts[2:5]))  # type: ignore[arg-type]
        elif method == "GET" and len(parts) == 4 and parts[:2] == ["v3", "bill"]:
            self._bill_list(parts[2], parts[3])
        else:
            self.send_json(404, {"error": f"{self.path_only} not found"})

    def _page(self) -> tuple[int, int]:
        limit = min(int(self.query.get("limit", ["20"])[0]), self.server.state["page_size"])
        return limit, int(self.query.get("offset", ["0"])[0])

    def _pagination(self, path: str, count: int, limit: int, offset: int) -> dict[str, Any]:
        pagination: dict[str, Any] = {"count": count}
        if offset + limit < count:
            pagination["next"] = (f"{self.server.url}{path}?offset={offset + limit}"
                                  f"&limit={limit}&format=json")
        return pagination

    def _actions(self, key: tuple[str, str, str]) -> None:
        bill = self.server.state["bills"].get(key)
        if bill is None:
            self.send_json(404, {"error": "Unknown resource"})
            return
        limit, offset = self._page()
        actions = bill["actions"]
        congress, kind, number = key
        self.send_json(200, {
            "actions": actions[offset:offset + limit],
            "pagination": self._pagination(self.path_only, len(actions), limit, offset),
            "request": {"billNumber": number, "billType": kind, "congress": congress,
                        "contentType": "application/json", "format": "json"},
        })

    def _bill_list(self, congress: str, kind: str) -> None:
        low = self.query.get("fromDateTime", ["0000"])[0]
        high = self.query.get("toDateTime", ["9999"])[0]
        bills = [
            {"congress": int(c), "number": n, "type": t.upper(), "title": bill["title"],
             "updateDate": bill["updateDate"],
             "latestAction": {"actionDate": bill["actions"][0]["actionDate"] if bill["actions"]
                              else None, "text": bill["actions"][0]["text"] if bill["actions"]
                              else None},
             "url": f"{self.server.url}/v3/bill/{c}/{t}/{n}?format=json"}
            for (c, t, n), bill in self.server.state["bills"].items()
            if (c, t) == (congress, kind) and low <= _as_datetime(bill["updateDate"]) <= high
        ]
        limit, offset = self._page()
        self.send_json(200, {
            "bills": bills[offset:offset + limit],
            "pagination": self._pagination(self.path_only, len(bills), limit, offset),
            "request": {"congress": congress, "contentType": "application/json", "format": "json"},
        })


def _as_datetime(update_date: str) -> str:
    """congress.gov gives ``updateDate`` as a date or a date-time; compare as ISO date-times."""
    return update_date if "T" in update_date else f"{update_date}T00:00:00Z"


class CongressStub(StubServer):
    def __init__(self, port: int = 0) -> None:
        super().__init__(CongressHandler, port)
        self.state.update(bills=recorded_bills(), requests=[], fail_429=0, retry_after=0,
                          page_size=250)

    @property
    def api_url(self) -> str:
        return f"{self.url}/v3"

    def fail_with_429(self, times: int, retry_after: int = 0) -> None:
        with self.lock:
            self.state["fail_429"], self.state["retry_after"] = times, retry_after


class BillReplay:
    """Replays H.R. 21 (117th) action by action as the bill ``key`` on the stub (newest first)."""

    # How many of the recorded actions (oldest first) each state shows.
    STATES: ClassVar[dict[str, int]] = {
        "introduced": 2, "in_committee": 3, "passed_house": 9, "received_in_senate": 10}

    def __init__(self, stub: CongressStub, key: tuple[str, str, str]) -> None:
        self.stub = stub
        self.key = key
        self.oldest_first = list(reversed(_recorded("loc_bill_117_hr_21_actions.json")["actions"]))

    def show(self, state: str) -> None:
        shown = self.oldest_first[:self.STATES[state]]
        with self.stub.lock:
            self.stub.state["bills"][self.key] = {
                "actions": list(reversed(shown)), "title": "Replayed bill",
                "updateDate": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }


@contextmanager
def running(server: StubServer) -> Iterator[StubServer]:
    """Serve ``server`` on 127.0.0.1 in a background thread for the ``with`` block."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
