"""Helpers for tests: real worker processes, a private Redis, polling, one action resolved."""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from actionwave.core.models import Target
from actionwave.intake.resolution import resolve_actions
from actionwave.legislators.geocoder import Geocoder
from actionwave.legislators.index import ZipIndex
from actionwave.platform.config import Settings

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


class BeatProcess:
    """A real ``actionwave beat`` in a child process, with an instance folder of its own (its
    schedule file), as on a machine of its own."""

    def __init__(self, settings: Settings, workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **replace(settings, instance_path=workdir).to_env()}
        self.log_path = workdir / "beat.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "actionwave", "beat"],
                                            env=env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


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


ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def web_processes(settings: Settings, log_path: Path,
                  workers: int = 2) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """``actionwave web`` with ``workers`` gunicorn processes; yields its port and the master."""
    port = free_port()
    env = {**os.environ, **settings.to_env()}
    with log_path.open("wb") as log:
        master = subprocess.Popen(
            [sys.executable, "-m", "actionwave", "web", "--port", str(port),
             "--workers", str(workers)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for(lambda: len(gunicorn_workers(master.pid)) == workers and answers(port),
                     timeout=30, message="actionwave web did not start")
            yield port, master
        finally:
            os.killpg(master.pid, signal.SIGTERM)
            # gunicorn lets open keep-alive connections finish, up to its graceful timeout.
            master.wait(timeout=settings.web_graceful_timeout_seconds + 30)


def answers(port: int) -> bool:
    """True when the web app on ``port`` answers /healthz."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def gunicorn_workers(master: int) -> list[int]:
    """The pids of the gunicorn master's worker processes."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def open_connections(pid: int, port: int) -> int:
    """Established TCP connections on ``port`` held by process ``pid`` (from /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except FileNotFoundError:  # closed since the folder was listed: the process is serving
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        if local_port == port and fields[3] == "01" and fields[9] in inodes:
            count += 1
    return count


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


def consent_everyone(session: Session, campaign_slug: str) -> int:
    """Every supporter consents to the campaign's mail (source ``import``), set-based; for tests
    that build many supporters with one statement. No commit. Returns the new consents."""
    return session.execute(text(
        "INSERT INTO campaign_consents (campaign_id, supporter_id, source, text, locale, given_at)"
        " SELECT c.id, s.id, 'import', 'imported by a test', s.locale, CURRENT_TIMESTAMP"
        " FROM supporters s JOIN campaigns c ON c.slug = :slug"
        " ON CONFLICT (campaign_id, supporter_id) DO NOTHING"), {"slug": campaign_slug}).rowcount


class PgBouncer:
    """Debian's pgbouncer on a free port, in transaction mode, in front of the PostgreSQL of
    ``database_url``, configured by the file docker-compose's profile uses
    (``deploy/pgbouncer/pgbouncer.ini.template``)."""

    PASSWORD = "pgbouncer-test"

    def __init__(self, workdir: Path, database_url: str, pool_size: int = 4,
                 statement_timeout_ms: int = 60_000, lock_timeout_ms: int = 10_000) -> None:
        import string

        import sqlalchemy as sa

        self.port = free_port()
        self.server = sa.make_url(database_url)
        workdir.chmod(0o755)  # pgbouncer drops root for nobody, who must read these
        auth = workdir / "userlist.txt"
        auth.write_text(f'"{self.server.username}" "{self.PASSWORD}"\n')
        template = (ROOT / "deploy/pgbouncer/pgbouncer.ini.template").read_text()
        self.ini = workdir / "pgbouncer.ini"
        self.ini.write_text(string.Template(template).substitute(
            DB_HOST=self.server.host, DB_PORT=self.server.port or 5432,
            DB_NAME=self.server.database, LISTEN_ADDR="127.0.0.1", LISTEN_PORT=self.port,
            AUTH_FILE=auth, MAX_CLIENT_CONN=500, DEFAULT_POOL_SIZE=pool_size,
            DB_STATEMENT_TIMEOUT_MS=statement_timeout_ms, DB_LOCK_TIMEOUT_MS=lock_timeout_ms))
        for path in (auth, self.ini):
            path.chmod(0o644)
        self.log = workdir / "pgbouncer.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return self.server.set(host="127.0.0.1", port=self.port, password=self.PASSWORD) \
            .render_as_string(hide_password=False)

    def start(self) -> None:
        binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
        user = ["-u", "nobody"] if os.geteuid() == 0 else []  # it refuses to run as root
        with self.log.open("wb") as log:
            self.process = subprocess.Popen([binary, *user, str(self.ini)], stdout=log,
                                            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"pgbouncer exited: {self.log.read_text()}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise TimeoutError("pgbouncer did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
