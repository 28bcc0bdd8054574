"""Open connections stay even across gunicorn's processes (web/balance.py)."""

from __future__ import annotations

import http.client
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from actionwave.platform.config import Settings
from tests.support import gunicorn_workers, open_connections, web_processes
from web.balance import ConnectionShares

CONNECTIONS = 24


def test_a_process_is_over_its_share_above_the_mean_plus_one() -> None:
    shares = ConnectionShares(slots=8)
    first, second = shares.claim(), shares.claim()
    shares.add(first, 13)
    shares.add(second, 11)
    assert not shares.over_share(first)  # 13 is the mean (12) plus one: close enough
    shares.add(first, 1)
    shares.add(second, -1)
    assert shares.over_share(first) and not shares.over_share(second)
    shares.release(second)  # alone now: a single process never sheds connections
    assert not shares.over_share(first)
    assert shares.claim() == second  # the slot is free again


def test_every_slot_taken_is_an_error() -> None:
    shares = ConnectionShares(slots=2)
    shares.claim(), shares.claim()
    with pytest.raises(RuntimeError, match="no free connection slot"):
        shares.claim()


@pytest.fixture
def two_processes(settings: Settings, tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen]]:
    """``actionwave web`` with two gunicorn processes; yields its port and the master."""
    with web_processes(settings, tmp_path / "web.log") as served:
        yield served


def test_connections_opened_at_once_end_up_even(
        two_processes: tuple[int, subprocess.Popen]) -> None:
    port, master = two_processes
    clients = [http.client.HTTPConnection("127.0.0.1", port, timeout=10)
               for _ in range(CONNECTIONS)]
    for client in clients:
        client.connect()  # all at once, before any request: the accept race decides the split
    closes: list[int] = []
    try:
        for _ in range(20):
            closes.append(0)
            for client in clients:  # http.client opens a new connection after a close
                client.request("GET", "/healthz")
                response = client.getresponse()
                response.read()
                assert response.status == 200
                closes[-1] += response.getheader("Connection") == "close"
        held = sorted(open_connections(pid, port) for pid in gunicorn_workers(master.pid))
    finally:
        for client in clients:
            client.close()
    assert sum(held) == CONNECTIONS - closes[-1]  # those closed last are not open again yet
    assert held[1] - held[0] <= 2, f"split {held} after {sum(closes)} closes"
