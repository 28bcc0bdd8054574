"""A stub of the House CWC API: ``POST /v2/message?apikey=…`` taking CWC 2.0 XML.

200 for a well-formed message with the required parts; 400 with ``<Errors><Error>…`` naming what
is missing; 401 for a wrong key; queued failures with ``stub.state["cwc_fail"]``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager

from tests.stubs.base import StubHandler, StubServer, serve

API_KEY = "cwc-test-key"
REQUIRED = ("CWCVersion", "Delivery/DeliveryId", "Delivery/DeliveryAgent",
            "Recipient/MemberOffice", "Constituent/FirstName", "Constituent/LastName",
            "Constituent/Address1", "Constituent/City", "Constituent/StateAbbreviation",
            "Constituent/Zip", "Constituent/Email", "Message/Subject",
            "Message/LibraryOfCongressTopics/LibraryOfCongressTopic")


class CwcHandler(StubHandler):
    def handle_request(self, method: str) -> None:
        if method != "POST" or self.path_only != "/v2/message":
            return self.send_xml(404, "<Errors><Error>Not found</Error></Errors>")
        body = self.body()
        state = self.server.state
        with self.server.lock:
            queued = state["cwc_fail"].pop(0) if state["cwc_fail"] else None
        if queued:
            return self.send_xml(queued, "<Errors><Error>Service unavailable</Error></Errors>")
        if self.query.get("apikey") != [API_KEY]:
            return self.send_xml(401, "<Errors><Error>Invalid API key</Error></Errors>")
        try:
            root = ET.fromstring(body)
        except ET.ParseError:
            return self.send_xml(400, "<Errors><Error>Malformed XML</Error></Errors>")
        missing = [path for path in REQUIRED if not (root.findtext(path) or "").strip()]
        if root.tag != "CWC" or missing:
            errors = "".join(f"<Error>Missing element {m}</Error>" for m in missing)
            return self.send_xml(400, f"<Errors>{errors or '<Error>Not CWC</Error>'}</Errors>")
        with self.server.lock:
            state["cwc_received"].append(body)
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
        server.state.update(cwc_received=[], cwc_fail=[])
        yield server
