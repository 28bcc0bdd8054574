"""A stub of the congress.gov API v3 bill endpoints, answering with the real recorded bodies.

What it receives is checked the way api.congress.gov documents it: GET only, the key in the
``X-Api-Key`` header (a missing or wrong key gets api.data.gov's real 403 bodies; a key in the
URL is refused), ``format=json``, ``limit`` 1-250, ``offset`` >= 0, and ``fromDateTime`` /
``toDateTime`` as ``YYYY-MM-DDTHH:MM:SSZ``. A request that breaks a rule gets a 400 and is listed
in ``state["invalid"]``, so a client change that breaks the wire breaks a test.

Answers:
- ``GET /v3/bill/{congress}/{type}/{number}/actions`` pages with ``limit``/``offset`` (capped at
  ``page_size``) and answers ``pagination.next`` as the real API does. A request that was
  recorded gets the recorded body byte for byte (H.R. 21's actions; the first page of 20 of
  H.R. 3076's 74, whose ``next`` has its host stripped by the recorder); only that first page of
  H.R. 3076 was recorded, so later pages are served from it (empty).
- ``GET /v3/bill/{congress}/{type}`` filters by ``fromDateTime``/``toDateTime`` on each bill's
  ``updateDate``.

Faults for the watcher's tests (``fault(mode, bill=None)``, for one bill's path or all):
``truncated`` (the body cut in half, Content-Length to match), ``cut`` (Content-Length of the
whole, half sent, connection closed), ``html`` (a 200 HTML page), ``hang`` (no answer until
``release()``), ``server_error`` (a gateway's 503 page); ``fail_with_429(times, retry_after)``;
``refuse_key(status)``.

``BillReplay`` walks a bill through real states built from the recorded H.R. 21 actions:
introduced -> in committee -> passed House -> received in Senate.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
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
MAX_LIMIT = 250
DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
RATE_LIMITED = {"error": {"code": "OVER_RATE_LIMIT", "message": (
    "You have exceeded your rate limit. Try again later or contact us at "
    "https://api.congress.gov/contact/ for assistance")}}
KEY_MISSING = {"error": {"code": "API_KEY_MISSING", "message": (
    "No api_key was supplied. Get one at https://api.congress.gov/sign-up/")}}
KEY_INVALID = {"error": {"code": "API_KEY_INVALID", "message": (
    "An invalid api_key was supplied. Get one at https://api.congress.gov/sign-up/")}}
HTML_PAGE = (b"<!DOCTYPE html>\n<html><head><title>Library of Congress</title></head>"
             b"<body><h1>Service temporarily unavailable</h1><p>Please try again later."
             b"</p></body></html>\n")
FAULTS = ("truncated", "cut", "html", "hang", "server_error")


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


# Requests that were recorded: (path, offset, the limits the recording answers) -> file.
RECORDED_ANSWERS = {
    ("/v3/bill/117/hr/21/actions", 0): (range(10, MAX_LIMIT + 1),
                                        "loc_bill_117_hr_21_actions.json"),
    ("/v3/bill/117/hr/3076/actions", 0): (range(20, 21),
                                          "ck_bill_117_hr_3076_actions_page1.json"),
}


class CongressHandler(StubHandler):
    def handle_request(self, method: str) -> None:
        state = self.server.state
        with self.server.lock:
            state["requests"].append(self.path)
            state["times"].append(time.monotonic())
            problem = self._invalid(method)
            if problem:
                state["invalid"].append(f"{self.path}: {problem}")
        if problem:
            self.send_json(400, {"error": {"code": "INVALID_REQUEST", "message": problem}})
            return
        if self._refused():
            return
        parts = self.path_only.strip("/").split("/")
        if len(parts) == 6 and parts[5] == "actions":
            status, body = self._actions(tuple(parts[2:5]))  # type: ignore[arg-type]
        elif len(parts) == 4:
            status, body = self._bill_list(parts[2], parts[3])
        else:
            status, body = 404, {"error": f"{self.path_only} not found"}
        self._answer(status, body)

    def _invalid(self, method: str) -> str | None:
        """What breaks congress.gov's documented request rules, or None."""
        query = self.query
        if method != "GET":
            return f"{method} is not allowed"
        if not self.path_only.startswith("/v3/bill/"):
            return "not a bill endpoint"
        if "api_key" in query:
            return "the key must travel in the X-Api-Key header, not the URL"
        if query.get("format") != ["json"]:
            return "format=json is required"
        limit, offset = query.get("limit", ["20"])[0], query.get("offset", ["0"])[0]
        if not (limit.isdigit() and 1 <= int(limit) <= MAX_LIMIT):
            return f"limit must be 1-{MAX_LIMIT}"
        if not offset.isdigit():
            return "offset must be a whole number"
        for name in ("fromDateTime", "toDateTime"):
            if name in query and not DATE_TIME.match(query[name][0]):
                return f"{name} must be YYYY-MM-DDTHH:MM:SSZ"
        return None

    def _refused(self) -> bool:
        state = self.server.state
        key = self.headers.get("X-Api-Key")
        if not key:
            self.send_json(403, KEY_MISSING)
        elif key != API_KEY or state["refuse_key"]:
            self.send_json(state["refuse_key"] or 403, KEY_INVALID)
        else:
            with self.server.lock:
                if state["fail_429"] <= 0:
                    return False
                state["fail_429"] -= 1
            self.send_json(429, RATE_LIMITED, {"Retry-After": str(state["retry_after"])})
        return True

    def _answer(self, status: int, body: dict[str, Any] | bytes) -> None:
        """Send ``body`` (a recorded file's bytes or a dict), or the fault set for this path."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        state = self.server.state
        fault = state["faults"].get(self.path_only.removesuffix("/actions")) or \
            state["faults"].get(None)
        if fault == "hang":
            state["release"].wait(60)
            return
        if fault in ("html", "server_error"):
            status, raw = (200, HTML_PAGE) if fault == "html" else (503, HTML_PAGE)
        length = len(raw)
        if fault in ("truncated", "cut"):
            raw = raw[:len(raw) // 2]
            length = len(raw) if fault == "truncated" else length
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8" if raw.startswith(b"<!")
                         else "application/json")
        self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.write(raw)
        if fault == "cut":
            self.close_connection = True

    def _page(self) -> tuple[int, int]:
        limit = min(int(self.query.get("limit", ["20"])[0]), self.server.state["page_size"])
        return limit, int(self.query.get("offset", ["0"])[0])

    def _pagination(self, count: int, limit: int, offset: int) -> dict[str, Any]:
        pagination: dict[str, Any] = {"count": count}
        if offset + limit < count:
            pagination["next"] = (f"https://api.congress.gov{self.path_only}?offset="
                                  f"{offset + limit}&limit={limit}&format=json")
        return pagination

    def _actions(self, key: tuple[str, str, str]) -> tuple[int, dict[str, Any] | bytes]:
        bill = self.server.state["bills"].get(key)
        if bill is None:
            return 404, {"error": "Unknown resource"}
        limit, offset = self._page()
        recorded = RECORDED_ANSWERS.get((self.path_only, offset))
        if bill.get("recorded", True) and recorded and limit in recorded[0]:
            return 200, (RECORDED / recorded[1]).read_bytes()
        actions = bill["actions"]
        congress, kind, number = key
        return 200, {
            "actions": actions[offset:offset + limit],
            "pagination": self._pagination(len(actions), limit, offset),
            "request": {"billNumber": number, "billType": kind, "congress": congress,
                        "contentType": "application/json", "format": "json"},
        }

    def _bill_list(self, congress: str, kind: str) -> tuple[int, dict[str, Any]]:
        low = self.query.get("fromDateTime", ["0000"])[0]
        high = self.query.get("toDateTime", ["9999"])[0]
        bills = [
            {"congress": int(c), "number": n, "type": t.upper(), "title": bill["title"],
             "updateDate": bill["updateDate"],
             **({"latestAction": {"actionDate": bill["actions"][0]["actionDate"],
                                  "text": bill["actions"][0]["text"]}} if bill["actions"] else {}),
             "url": f"https://api.congress.gov/v3/bill/{c}/{t}/{n}?format=json"}
            for (c, t, n), bill in self.server.state["bills"].items()
            if (c, t) == (congress, kind) and low <= _as_datetime(bill["updateDate"]) <= high
        ]
        limit, offset = self._page()
        return 200, {
            "bills": bills[offset:offset + limit],
            "pagination": self._pagination(len(bills), limit, offset),
            "request": {"congress": congress, "contentType": "application/json", "format": "json"},
        }


def _as_datetime(update_date: str) -> str:
    """congress.gov gives ``updateDate`` as a date or a date-time; compare as ISO date-times."""
    return update_date if "T" in update_date else f"{update_date}T00:00:00Z"


class CongressStub(StubServer):
    def __init__(self, port: int = 0) -> None:
        super().__init__(CongressHandler, port)
        self.state.update(bills=recorded_bills(), requests=[], times=[], invalid=[], fail_429=0,
                          retry_after=0, page_size=MAX_LIMIT, faults={}, refuse_key=0,
                          release=threading.Event())

    @property
    def api_url(self) -> str:
        return f"{self.url}/v3"

    def fail_with_429(self, times: int, retry_after: int = 0) -> None:
        with self.lock:
            self.state["fail_429"], self.state["retry_after"] = times, retry_after

    def fault(self, mode: str | None, bill: tuple[str, str, str] | None = None) -> None:
        """Answer ``bill``'s requests (or every request) with ``mode``; None ends it."""
        assert mode is None or mode in FAULTS, mode
        path = "/v3/bill/" + "/".join(bill) if bill else None
        with self.lock:
            if mode is None:
                self.state["faults"].pop(path, None)
            else:
                self.state["faults"][path] = mode

    def refuse_key(self, status: int = 403) -> None:
        """Refuse even the right key, with api.data.gov's API_KEY_INVALID body (0 accepts it)."""
        with self.lock:
            self.state["refuse_key"] = status

    def add_bill(self, key: tuple[str, str, str], actions: list[dict[str, Any]],
                 title: str = "A bill") -> None:
        """A bill the stub serves from ``actions`` (newest first), updated now."""
        with self.lock:
            self.state["bills"][key] = {
                "actions": actions, "title": title, "recorded": False,
                "updateDate": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}

    def release(self) -> None:
        """Let hanging answers end."""
        self.state["release"].set()

    def shutdown(self) -> None:
        self.release()
        super().shutdown()


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
        self.stub.add_bill(self.key, list(reversed(shown)), title="Replayed bill")


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
