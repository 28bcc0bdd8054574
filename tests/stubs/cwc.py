"""A stub of the House CWC API: ``POST /v2/message`` and ``POST /v2/validate``, ``?apikey=…``.

Every document received is checked against the CWC 2.0 RELAX NG grammar
(``shared/data/reference/cwc_schema_v2.rng``) with lxml: an invalid one gets 400 with
``<Errors><Error>…`` carrying the grammar's complaints, as CWC names what it refuses. A valid
``message`` is recorded (``state["cwc_received"]``) and answered 200; a valid ``validate`` is
answered 200 and recorded only in ``state["cwc_validated"]`` (CWC checks it, delivers nothing).
401 for a key other than ``state["api_key"]`` (default ``API_KEY``); queued failures with
``stub.state["cwc_fail"]`` (a status, or ``"echo_key"`` for a 400 whose text repeats the request
URL with its key, as some servers do).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from xml.sax.saxutils import escape

from lxml import etree

from tests.stubs.base import REFERENCE, StubHandler, StubServer, serve

API_KEY = "cwc-test-key"
# Delivery agent settings CWC accepts, for tests that configure CWC.
AGENT = {"cwc_agent_contact_name": "Alex Rivera", "cwc_agent_contact_email": "cwc@example.org",
         "cwc_agent_contact_phone": "202-555-0123", "cwc_organization": "Actionwave volunteers"}


def grammar_errors(document: bytes) -> list[str]:
    """The CWC grammar's complaints about ``document``; empty when it is valid."""
    try:
        tree = etree.fromstring(document)
    except etree.XMLSyntaxError as exc:
        return [f"Malformed XML: {exc}"]
    validator = etree.RelaxNG(etree.parse(str(REFERENCE / "cwc_schema_v2.rng")))
    if validator.validate(tree):
        return []
    return [f"line {e.line}: {e.message}" for e in validator.error_log] or ["invalid"]


class CwcHandler(StubHandler):
    def handle_request(self, method: str) -> None:
        action = self.path_only.removeprefix("/v2/")
        if method != "POST" or action not in ("message", "validate"):
            return self.send_xml(404, "<Errors><Error>Not found</Error></Errors>")
        body = self.body()
        state = self.server.state
        with self.server.lock:
            state["requests"].append(self.path)
            queued = state["cwc_fail"].pop(0) if state["cwc_fail"] else None
        if queued == "echo_key":
            return self.send_xml(400, f"<Errors><Error>Bad request to {escape(self.path)}"
                                      "</Error></Errors>")
        if queued:
            return self.send_xml(queued, "<Errors><Error>Service unavailable</Error></Errors>")
        if self.query.get("apikey") != [state.get("api_key", API_KEY)]:
            return self.send_xml(401, "<Errors><Error>Invalid API key</Error></Errors>")
        errors = grammar_errors(body)
        if errors:
            listed = "".join(f"<Error>{escape(e)}</Error>" for e in errors)
            return self.send_xml(400, f"<Errors>{listed}</Errors>")
        with self.server.lock:
            state["cwc_received" if action == "message" else "cwc_validated"].append(body)
        return self.send_xml(200, "<Response><Message>Message received</Message></Response>")

    def send_xml(self, status: int, text: str) -> None:
        raw = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


@contextmanager
def cwc_stub() -> Iterator[StubServer]:
    with serve(CwcHandler) as server:
        server.state.update(cwc_received=[], cwc_validated=[], cwc_fail=[], requests=[])
        yield server
