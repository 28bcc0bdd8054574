"""A small threaded HTTP server for stubs: subclass ``StubHandler`` and route in ``handle``.

Every stub is built from its provider's reference in ``shared/data/reference`` (``REFERENCE``)
and recorded answers in ``shared/data/api-examples``, never from our own clients' idea of the
format: what it receives is checked against the reference, and it answers as the provider does.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("ACTIONWAVE_SHARED_DATA", ROOT.parent / "shared" / "data"))
# The providers' own descriptions of their wire formats: stubs check what they receive with these.
REFERENCE = DATA / "reference"


class StubHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: StubServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    @property
    def path_only(self) -> str:
        return urlsplit(self.path).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.path).query)

    def body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        raw = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        if raw:
            self.send_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:
        self.handle_request("GET")

    def do_POST(self) -> None:
        self.handle_request("POST")

    def do_DELETE(self) -> None:
        self.handle_request("DELETE")

    def handle_request(self, method: str) -> None:
        self.send_json(404, {"error": "no route in this stub"})  # subclasses route requests


class StubServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, handler: type[StubHandler], port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), handler)
        self.lock = threading.Lock()
        self.state: dict[str, Any] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@contextmanager
def serve(handler: type[StubHandler], port: int = 0) -> Iterator[StubServer]:
    """Run a stub in a background thread for the duration of the ``with`` block."""
    server = StubServer(handler, port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
