"""A stub of SendGrid's ``POST /v3/mail/send`` and Email Activity ``GET /v3/messages``.

Every mail-send body is checked against SendGrid's own JSON Schema of it
(``shared/data/reference/sendgrid_mail_send.schema.json``, with ``jsonschema``); one that breaks
it gets 400 with SendGrid's ``errors[]`` shape (``message``, ``field``, ``help``) naming the
place, and is counted in ``stub.invalid``. A valid body with ``mail_settings.sandbox_mode.enable``
is answered 200 with an empty body and delivers nothing, as SendGrid's sandbox mode does.
Otherwise it answers as SendGrid does: 202 with an empty body and ``X-Message-Id``;
400/401/413/500 with the ``errors[]`` bodies recorded in ``shared/data/api-examples/sendgrid``;
429 with the rate-limit headers. Every accepted personalization is recorded with its
``custom_args`` (bodies after substitution), so tests and the benchmark can count duplicates and
losses.

Failure modes: ``stub.fail_next(status, times)`` queues answers (202 = answer normally);
``stub.mode = "drop"`` accepts and records the mail but cuts the connection before answering
(an in-doubt send);
``stub.per_second_cap`` answers 429 past that many requests in a wall-clock second;
``stub.fail_for(seconds, statuses)`` answers those statuses in turn (an outage) for a while.

Run standalone for the benchmark: ``python -m tests.stubs.sendgrid --port 8025``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator

from tests.stubs.base import DATA, REFERENCE, StubHandler, StubServer

EXAMPLES = DATA / "api-examples" / "sendgrid"
MAIL_SEND_SCHEMA = Draft202012Validator(
    json.loads((REFERENCE / "sendgrid_mail_send.schema.json").read_text()),
    format_checker=Draft202012Validator.FORMAT_CHECKER)
API_KEY = "SG.test-key"
KEY_QUERY = re.compile(r"""unique_args\['(?P<arg>[^']+)'\]\s*=\s*"(?P<value>[^"]*)\"""")


def _error_bodies() -> dict[int | str, Any]:
    """The spec's error bodies by status; the observed (real) 401 and 400 ``to`` bodies win."""
    spec = json.loads((EXAMPLES / "mail_send_error_examples_from_spec.json").read_text())
    bodies: dict[int | str, Any] = {int(code): entry["body"] for code, entry in spec.items()}
    observed = json.loads((EXAMPLES / "mail_send_error_responses_observed.json").read_text())
    for entry in observed:
        field_name = entry["body"]["errors"][0].get("field") or ""
        if entry["status"] == 401:
            bodies[401] = entry["body"]
        elif entry["status"] == 400 and field_name.endswith(".to"):
            bodies["to"] = entry["body"]
    return bodies


ERRORS = _error_bodies()


def schema_errors(body: Any) -> list[dict[str, Any]]:
    """SendGrid's ``errors[]`` for what in ``body`` breaks its mail-send schema (empty if none),
    each naming the place as SendGrid does (``personalizations.0.to``)."""
    return [{"message": error.message, "field": ".".join(str(p) for p in error.absolute_path)
             or None, "help": None}
            for error in sorted(MAIL_SEND_SCHEMA.iter_errors(body), key=lambda e: e.path)]


@dataclass
class Accepted:
    key: str
    to: str
    subject: str
    text: str
    custom_args: dict[str, str]
    headers: dict[str, str]
    message_id: str
    at: float


@dataclass
class SendGridState:
    api_key: str = API_KEY
    mode: str = "ok"
    per_second_cap: int | None = None
    max_bytes: int = 30 * 1024 * 1024
    queued: list[int] = field(default_factory=list)
    failing_until: float = 0.0
    failing_statuses: tuple[int, ...] = ()
    accepted: list[Accepted] = field(default_factory=list)
    invalid: list[list[dict[str, Any]]] = field(default_factory=list)
    sandboxed: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    requests_per_second: Counter[int] = field(default_factory=Counter)
    mails_per_second: Counter[int] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    ids: Iterator[int] = field(default_factory=itertools.count)


class SendGridHandler(StubHandler):
    def handle_request(self, method: str) -> None:
        path = self.path_only
        if method == "POST" and path == "/v3/mail/send":
            self.mail_send()
        elif method == "GET" and path == "/v3/messages":
            self.activity()
        elif method == "GET" and path == "/_stub/stats":
            self.send_json(200, SendGridStub(self.server).stats())
        elif method == "GET" and path == "/_stub/keys":  # times each mail key was accepted
            with self.server.lock:
                counts = dict(self.stub.counts)
            self.send_json(200, counts)
        else:
            self.send_json(404, ERRORS[404])

    @property
    def stub(self) -> SendGridState:
        return self.server.state["sendgrid"]

    def authorized(self) -> bool:
        return self.headers.get("Authorization") == f"Bearer {self.stub.api_key}"

    def mail_send(self) -> None:
        raw = self.body()
        stub = self.stub
        now = time.time()
        second = int(now)
        with self.server.lock:
            stub.requests_per_second[second] += 1
            status = stub.queued.pop(0) if stub.queued else None
            status = None if status == 202 else status  # a queued 202: answer normally
            if status is None and now < stub.failing_until:
                turn = sum(stub.requests_per_second.values())
                status = stub.failing_statuses[turn % len(stub.failing_statuses)]
            over_cap = (stub.per_second_cap is not None
                        and stub.requests_per_second[second] > stub.per_second_cap)
        if status is None and over_cap:
            status = 429
        if status is None and not self.authorized():
            status = 401
        if status is None and len(raw) > stub.max_bytes:
            status = 413
        if status is not None:
            return self.refuse(status, now)
        try:
            body = json.loads(raw)
        except ValueError:
            return self.refuse(400, now, ERRORS[400])
        errors = schema_errors(body)
        if errors:
            with self.server.lock:
                stub.invalid.append(errors)
            return self.refuse(400, now, {"errors": errors})
        if ((body.get("mail_settings") or {}).get("sandbox_mode") or {}).get("enable") is True:
            with self.server.lock:
                stub.sandboxed += 1
                stub.statuses[200] += 1
            return self.send_json(200, None)
        try:
            mails = expand(body)
        except (KeyError, TypeError, AttributeError, StopIteration):
            return self.refuse(400, now, ERRORS["to"])
        message_id = f"stub{next(stub.ids):08d}.filter"
        with self.server.lock:
            for mail in mails:
                stub.accepted.append(Accepted(**mail, message_id=message_id, at=now))
                stub.counts[mail["key"]] += 1
            stub.mails_per_second[second] += len(mails)
            stub.statuses[202] += 1
        if stub.mode == "drop":
            self.close_connection = True
            self.connection.close()
            return None
        return self.send_json(202, None, {"X-Message-Id": message_id})

    def refuse(self, status: int, now: float, body: Any = None) -> None:
        with self.server.lock:
            self.stub.statuses[status] += 1
        headers: dict[str, str] = {}
        if status == 429:
            headers = {"X-RateLimit-Limit": str(self.stub.per_second_cap or 600),
                       "X-RateLimit-Remaining": "0",
                       "X-RateLimit-Reset": str(int(now) + 1), "Retry-After": "1"}
            body = {"errors": [{"field": None, "message": "too many requests"}]}
        self.send_json(status, body if body is not None else ERRORS[status], headers)

    def activity(self) -> None:
        if not self.authorized():
            return self.send_json(401, ERRORS[401])
        match = KEY_QUERY.search(self.query.get("query", [""])[0])
        if match is None:
            return self.send_json(400, {"errors": [{"field": "query",
                                                    "message": "invalid query"}]})
        with self.server.lock:
            found = [a for a in self.stub.accepted
                     if a.custom_args.get(match["arg"]) == match["value"]]
        messages = [{"from_email": "actions@example.org", "msg_id": a.message_id,
                     "subject": a.subject, "to_email": a.to, "status": "processing",
                     "opens_count": 0, "clicks_count": 0,
                     "last_event_time": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                      time.gmtime(a.at))} for a in found]
        return self.send_json(200, {"messages": messages})


def expand(body: dict[str, Any]) -> list[dict[str, Any]]:
    """One record per personalization, with substitutions applied to the text body."""
    text = next(c["value"] for c in body["content"] if c["type"] == "text/plain")
    mails = []
    for item in body["personalizations"]:
        if not item.get("to") or not item["to"][0].get("email"):
            raise KeyError("to")
        rendered = text
        for tag, value in (item.get("substitutions") or {}).items():
            rendered = rendered.replace(tag, value)
        args = item.get("custom_args") or {}
        mails.append({"key": args.get("aw_key", ""), "to": item["to"][0]["email"],
                      "subject": item.get("subject") or body.get("subject", ""),
                      "text": rendered, "custom_args": args,
                      "headers": item.get("headers") or {}})
    return mails


class SendGridServer(StubServer):
    request_queue_size = 1024


class SendGridStub:
    """A running stub: its URL, its recorded state and its failure switches."""

    def __init__(self, server: StubServer) -> None:
        self.server = server
        self.state: SendGridState = server.state["sendgrid"]

    @property
    def url(self) -> str:
        return self.server.url

    def fail_next(self, status: int, times: int = 1) -> None:
        with self.server.lock:
            self.state.queued.extend([status] * times)

    def fail_for(self, seconds: float, statuses: tuple[int, ...] = (429, 500)) -> None:
        """Answer every mail send with ``statuses`` in turn for the next ``seconds``."""
        with self.server.lock:
            self.state.failing_statuses = statuses
            self.state.failing_until = time.time() + seconds

    @property
    def accepted(self) -> list[Accepted]:
        with self.server.lock:
            return list(self.state.accepted)

    def duplicates(self) -> int:
        with self.server.lock:
            return sum(n - 1 for n in self.state.counts.values() if n > 1)

    def max_requests_per_second(self) -> int:
        with self.server.lock:
            return max(self.state.requests_per_second.values(), default=0)

    def max_mails_per_second(self) -> int:
        with self.server.lock:
            return max(self.state.mails_per_second.values(), default=0)

    def stats(self) -> dict[str, Any]:
        """Counts for a benchmark that runs the stub in another process (``GET /_stub/stats``)."""
        with self.server.lock:
            counts = self.state.counts
            kinds = Counter(key.split(":", 1)[0] for key in counts)
            return {"accepted": sum(counts.values()), "distinct": len(counts),
                    "distinct_by_kind": dict(kinds),
                    "duplicates": sum(n - 1 for n in counts.values() if n > 1),
                    "max_requests_1s": max(self.state.requests_per_second.values(), default=0),
                    "max_mails_1s": max(self.state.mails_per_second.values(), default=0),
                    "requests_per_second": dict(sorted(self.state.requests_per_second.items())),
                    "statuses": dict(self.state.statuses)}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.state, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("mode", "per_second_cap", "api_key", "max_bytes"):
            setattr(self.state, name, value)
        else:
            super().__setattr__(name, value)


@contextmanager
def sendgrid_stub(port: int = 0) -> Iterator[SendGridStub]:
    """Serve the stub on 127.0.0.1 for the ``with`` block."""
    server = SendGridServer(SendGridHandler, port)
    server.state["sendgrid"] = SendGridState()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield SendGridStub(server)
    finally:
        server.shutdown()
        server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--per-second-cap", type=int, default=None)
    args = parser.parse_args()
    with sendgrid_stub(args.port) as stub:
        stub.per_second_cap = args.per_second_cap
        print(json.dumps({"url": stub.url, "api_key": API_KEY}), flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
