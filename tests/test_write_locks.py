"""Who waits for whom to write, and what no transaction is held across.

- On SQLite (the embedded default) the web, the worker and beat share one write lock: a
  supporter's submission (the intake's group commit) goes before a worker's transaction that
  asked at the same time (``actionwave.platform.db.WriterTurns``), and a forked process opens
  its own pooled connections.
- Resolving an action asks the geocoder with no transaction open (tasks/actions.py): on SQLite
  no lock held, on PostgreSQL no transaction, so a slow Census answer holds nobody up.
"""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from actionwave.campaigns.files import load_campaign
from actionwave.core.models import Action, Campaign
from actionwave.intake.submissions import ActionForm, submit_action
from actionwave.platform.db import intake_first, make_engine
from actionwave.platform.migrate import upgrade
from actionwave.system.services import Services
from tests.conftest import CAMPAIGN_FILE
from tests.organizer_support import sqlite_services  # noqa: F401 (a fixture)
from tests.stubs.base import serve
from tests.stubs.census import CensusHandler

MIT = {"matched": "77 MASSACHUSETTS AVE, CAMBRIDGE, MA, 02139", "state": "MA", "district": 7,
       "zip": "02139"}


def _table(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE turns (id INTEGER PRIMARY KEY, who TEXT)")


def _write(url: str, who: str, intake: bool, ready: Any, go: Any, after: float) -> None:
    """In a process of its own, as the web and the worker are: one row, ``after`` s past go."""
    engine = make_engine(url)
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")  # connected and warm
    ready.set()
    go.wait(10)
    time.sleep(after)
    with (intake_first(engine) if intake else engine).begin() as conn:
        conn.exec_driver_sql("INSERT INTO turns (who) VALUES (?)", (who,))


def test_intake_writes_before_a_background_writer_that_asked_at_the_same_time(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'turns.db'}"
    engine = make_engine(url)
    _table(engine)
    spawn = multiprocessing.get_context("spawn")  # SQLite's locks don't survive a fork
    go = spawn.Event()
    ready = [spawn.Event(), spawn.Event()]
    writers = [spawn.Process(target=_write, args=(url, "intake", True, ready[0], go, 0.05)),
               spawn.Process(target=_write, args=(url, "worker", False, ready[1], go, 0.48))]
    for process in writers:
        process.start()
    assert all(event.wait(30) for event in ready)
    with engine.begin() as conn:  # a long worker transaction holds the lock...
        conn.exec_driver_sql("INSERT INTO turns (who) VALUES ('holder')")
        # ...while a submission waits, and a worker asks 20 ms before the lock comes free
        go.set()
        time.sleep(0.5)
    for process in writers:
        process.join(10)
        assert process.exitcode == 0
    with engine.connect() as conn:
        order = [row[0] for row in conn.exec_driver_sql("SELECT who FROM turns ORDER BY id")]
    assert order == ["holder", "intake", "worker"]
    engine.dispose()


def test_a_background_writer_waits_for_the_intake_only_so_long(tmp_path: Path) -> None:
    """Under a surge that never ebbs, the worker still gets its turns."""
    engine = make_engine(f"sqlite:///{tmp_path / 'turns.db'}")
    _table(engine)
    waiting = os.open(f"{tmp_path / 'turns.db'}-turns", os.O_RDWR)
    fcntl.flock(waiting, fcntl.LOCK_SH)  # an intake writer waits and waits
    try:
        started = time.monotonic()
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO turns (who) VALUES ('worker')")
        assert time.monotonic() - started < 1.0
    finally:
        fcntl.flock(waiting, fcntl.LOCK_UN)
        os.close(waiting)
    engine.dispose()


def _resolve_through_census(services: Services, slug: str,
                            observe: Callable[[], bool]) -> list[bool]:
    """Resolve one action with a street address in a split ZIP, as the worker's task does, with
    the Census stub asking ``observe()`` while the request is in flight; its answers."""
    from workers.celery_app import create_celery

    seen: list[bool] = []

    class Observing(CensusHandler):
        def handle_request(self, method: str) -> None:
            seen.append(observe())
            super().handle_request(method)

    with serve(Observing) as census:
        census.state["matches"] = [MIT]
        own = Services(replace(services.settings, geocoder_url=census.url + "/"))
        with own.session() as session:
            form = ActionForm(first_name="Ada", last_name="Lee", zip="02139",
                              email="ada@example.org",
                              # Never asked before: the geocoder's answers are cached
                              address=f"{secrets.randbelow(10**6)} Massachusetts Ave, Cambridge")
            action_id = submit_action(session, slug, form).action_id
        app = create_celery(own.settings, own)
        app.loader.import_default_modules()
        app.tasks["actionwave.resolve_actions"].apply(args=[[str(action_id)]]).get()
        with own.session() as session:
            action = session.get(Action, action_id)
            assert action.status == "delivering"
            assert action.details["resolved_by"] == "matched"
        own.close()
    return seen


def test_resolution_calls_the_geocoder_holding_no_write_lock(
        sqlite_services: Services) -> None:  # noqa: F811
    """On SQLite: during the Census call another connection takes the write lock at once."""
    path = sqlite_services.settings.database_url.removeprefix("sqlite:///")

    def can_write() -> bool:
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            other.close()

    with sqlite_services.session() as session:
        load_campaign(session, CAMPAIGN_FILE)
        slug = session.scalar(sa.select(Campaign.slug))
    assert _resolve_through_census(sqlite_services, slug, can_write) == [True]


def test_resolution_calls_the_geocoder_with_no_transaction_open(
        committed_db: Services, campaign_slug: str) -> None:
    """On PostgreSQL: during the Census call no connection of ours is in a transaction."""
    watcher = sa.create_engine(committed_db.settings.database_url, poolclass=sa.NullPool)

    def none_in_transaction() -> bool:
        with watcher.connect() as conn:
            return conn.scalar(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()")) == 0

    assert _resolve_through_census(committed_db, campaign_slug, none_in_transaction) == [True]
    watcher.dispose()


def test_a_forked_child_opens_its_own_connections(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fork.db'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")  # a pooled connection of the parent
    child = os.fork()
    if child == 0:  # pragma: no cover (the child's exit code is the assertion)
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql("SELECT 1")
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    with engine.begin() as conn:  # the parent's connection still works
        conn.exec_driver_sql("SELECT 1")
    engine.dispose()
