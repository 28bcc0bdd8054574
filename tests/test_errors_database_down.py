"""PostgreSQL stopped under the intake: 503 with Retry-After, never a 500 or a false 2xx; it
recovers by itself when the server is back.

The test runs its own PostgreSQL cluster (initdb into tmp_path, a free port); the shared server
on 5432 is never touched.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from actionwave.platform.config import Settings
from actionwave.platform.migrate import upgrade
from actionwave.system.services import Services
from tests.conftest import CAMPAIGN_FILE
from tests.support import wait_for

pytestmark = pytest.mark.faults


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        pytest.fail(f"PostgreSQL server binaries ({name}) are not installed")
    return found[-1]


class PrivatePostgres:
    """A throwaway cluster in ``path``, run as the ``postgres`` user when we are root."""

    def __init__(self, path: Path) -> None:
        self.data = path / "data"
        self.log = path / "server.log"
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.prefix:
            shutil.chown(path, "postgres")
        self.run(_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E",
                 "UTF8", "--no-sync")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def run(self, *args: str) -> None:
        subprocess.run([*self.prefix, *args], check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        self.run(_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "30",
                 "-o", f"-p {self.port} -k '' -c listen_addresses=127.0.0.1 -c fsync=off",
                 "start")

    def stop(self) -> None:
        self.run(_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    # Not under tmp_path: pytest's base directory is private to root, and initdb runs as postgres.
    path = Path(tempfile.mkdtemp(prefix="aw-pg-"))
    try:
        server = PrivatePostgres(path)
        server.start()
        yield server
        if (server.data / "postmaster.pid").exists():
            server.stop()
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def client_on_private_postgres(private_postgres: PrivatePostgres,
                               settings: Settings) -> Iterator[FlaskClient]:
    from actionwave.campaigns.files import load_campaign
    from web import create_app

    upgrade(private_postgres.url)
    private = replace(settings, database_url=private_postgres.url)
    services = Services(private)
    with services.session() as session:
        load_campaign(session, CAMPAIGN_FILE)
    yield create_app(private, services).test_client()
    services.close()


def submit(client: FlaskClient, n: int):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/campaigns/hketo-certification-act/actions",
                       json={"email": f"down{n}@example.org", "first_name": "Kit",
                             "last_name": "Wong", "zip": "60601"})


def stored_actions(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM actions")).scalar_one()
    finally:
        engine.dispose()


def test_intake_answers_503_while_postgres_is_down_and_recovers_by_itself(
        private_postgres: PrivatePostgres, client_on_private_postgres: FlaskClient):
    client = client_on_private_postgres
    assert submit(client, 0).status_code == 202  # the pool holds a live connection now

    private_postgres.stop()
    for n in range(1, 6):
        response = submit(client, n)
        assert response.status_code == 503, response.get_data(as_text=True)
        assert int(response.headers["Retry-After"]) > 0
        assert response.get_json()["error"]["message"]
    ready = client.get("/readyz")
    assert ready.status_code == 503 and "database" in ready.get_json()["down"]

    private_postgres.start()
    wait_for(lambda: submit(client, 100).status_code == 202, timeout=20,
             message="the intake to recover without a restart")
    assert client.get("/readyz").get_json()["checks"]["database"] == "ok"
    # Exactly the answered 202s are stored: submission 0 and the recovery one(s) for down100.
    assert stored_actions(private_postgres.url) == 2


def test_restart_under_load_gives_only_202_for_stored_rows_or_503_and_recovers(
        private_postgres: PrivatePostgres, client_on_private_postgres: FlaskClient):
    client = client_on_private_postgres
    answers: list[tuple[int, str | None, str | None]] = []
    stopping = threading.Event()

    def submit_until_stopped(submitter: int) -> None:
        n = 0
        while not stopping.is_set():
            response = submit(client, 1000 * (submitter + 1) + n)
            body = response.get_json(silent=True) or {}
            answers.append((response.status_code, body.get("id"),
                            response.headers.get("Retry-After")))
            n += 1
            time.sleep(0.01)

    submitters = [threading.Thread(target=submit_until_stopped, args=(n,)) for n in range(4)]
    for submitter in submitters:
        submitter.start()
    time.sleep(1)
    private_postgres.stop()
    time.sleep(2)
    private_postgres.start()
    wait_for(lambda: len([a for a in answers[-20:] if a[0] == 202]) == 20, timeout=30,
             message="202s again without a restart of the app")
    stopping.set()
    for submitter in submitters:
        submitter.join(timeout=30)

    statuses = Counter(status for status, _, _ in answers)
    assert set(statuses) == {202, 503}, statuses
    assert all(retry_after and int(retry_after) > 0
               for status, _, retry_after in answers if status == 503)
    accepted = {action_id for status, action_id, _ in answers if status == 202}
    engine = sa.create_engine(private_postgres.url)
    try:
        with engine.connect() as conn:
            stored = {str(i) for i in conn.execute(sa.text("SELECT id FROM actions")).scalars()}
    finally:
        engine.dispose()
    assert accepted <= stored  # never a 2xx for something not stored
    print(f"{dict(statuses)}; stored but answered 503: {len(stored - accepted)}")
