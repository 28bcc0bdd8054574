"""Open connections stay even across gunicorn's processes (web/balance.py)."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from actionwave.config import Settings
from tests.support import free_port, wait_for
from web.balance import ConnectionShares

ROOT = Path(__file__).resolve().parents[1]
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
    port = free_port()
    env = {**os.environ, **settings.to_env()}
    with (tmp_path / "web.log").open("wb") as log:
        master = subprocess.Popen(
            [sys.executable, "-m", "actionwave", "web", "--port", str(port), "--workers", "2"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for(lambda: len(workers(master.pid)) == 2 and answers(port), timeout=30,
                     message="actionwave web did not start")
            yield port, master
        finally:
            os.killpg(master.pid, signal.SIGTERM)
            master.wait(timeout=30)


def answers(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def workers(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def open_connections(pid: int, port: int) -> int:
    """Established TCP connections on ``port`` held by process ``pid`` (from /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd)
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        if local_port == port and fields[3] == "01" and fields[9] in inodes:
            count += 1
    return count


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
        held = sorted(open_connections(pid, port) for pid in workers(master.pid))
    finally:
        for client in clients:
            client.close()
    assert sum(held) == CONNECTIONS - closes[-1]  # those closed last are not open again yet
    assert held[1] - held[0] <= 2, f"split {held} after {sum(closes)} closes"
