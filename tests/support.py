"""Helpers for tests: real worker processes, a private Redis, polling, one action resolved."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy.orm import Session

from actionwave.config import Settings
from actionwave.legislators.geocoder import Geocoder
from actionwave.legislators.index import ZipIndex
from actionwave.models import Target
from actionwave.resolution import resolve_actions

T = TypeVar("T")


class WorkerProcess:
    """A real ``actionwave worker`` in a child process, with its own process group."""

    def __init__(self, settings: Settings, log_path: Path, extra_env: dict[str, str] | None = None,
                 args: tuple[str, ...] = ()) -> None:
        env = {**os.environ, **settings.to_env(), **(extra_env or {})}
        self.log_path = log_path
        self.log = log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "actionwave", "worker", "--without-heartbeat",
             "--without-gossip", "--without-mingle", *args],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited: {self.log_path.read_text()[-3000:]}")
            if b"ready." in self.log_path.read_bytes():
                return
            time.sleep(0.1)
        raise TimeoutError(f"worker not ready: {self.log_path.read_text()[-3000:]}")

    def kill(self, signum: int = signal.SIGKILL, timeout: float = 30) -> None:
        """Signal the worker's whole process group and wait for the worker to exit."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.kill(signal.SIGTERM, timeout=10)
        self.kill(signal.SIGKILL)
        self.log.close()


def wait_for(
    predicate: Callable[[], T], timeout: float = 30, interval: float = 0.1, message: str = ""
) -> T:
    """Poll ``predicate`` until it returns something truthy; fail the test on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {message or predicate}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A private redis-server this test may stop and start without disturbing anyone else."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port),
             "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise TimeoutError("redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def resolve_action(session: Session, action_id: uuid.UUID, geocoder: Geocoder | None = None,
                   index: ZipIndex | None = None) -> list[Target]:
    """``resolve_actions`` for one action: its targets."""
    [(_, targets)] = resolve_actions(session, [action_id], geocoder, index)
    return targets
