"""Open connections spread over gunicorn's processes: each listens on a socket of its own
(``reuse_port`` in web/gunicorn_conf.py), and the kernel hands each new connection to one."""

from __future__ import annotations

import http.client
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from actionwave.platform.config import Settings
from tests.support import gunicorn_workers, open_connections, web_processes

CONNECTIONS = 24


@pytest.fixture
def two_processes(settings: Settings, tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen]]:
    """``actionwave web`` with two gunicorn processes; yields its port and the master."""
    with web_processes(settings, tmp_path / "web.log") as served:
        yield served


def test_connections_opened_at_once_are_spread_over_both_processes(
        two_processes: tuple[int, subprocess.Popen]) -> None:
    port, master = two_processes
    clients = [http.client.HTTPConnection("127.0.0.1", port, timeout=10)
               for _ in range(CONNECTIONS)]
    for client in clients:
        client.connect()  # all at once, before any request
    try:
        for _ in range(5):
            for client in clients:
                client.request("GET", "/healthz")
                response = client.getresponse()
                response.read()
                assert response.status == 200
        held = sorted(open_connections(pid, port) for pid in gunicorn_workers(master.pid))
    finally:
        for client in clients:
            client.close()
    assert sum(held) == CONNECTIONS  # none closed: nothing sheds or moves connections
    # The kernel hashes each connection to a socket: a split is a coin toss per connection, and
    # fewer than 4 of 24 on one process happens about 3 times in 10,000.
    assert held[0] >= 4, f"split {held}"
