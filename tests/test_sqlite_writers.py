"""The embedded default's writers share one SQLite write lock: who waits, and for what.

- A supporter's submission (the intake's group commit) goes before a worker's transaction that
  asked at the same time (``actionwave.platform.db.WriterTurns``).
- Resolving an action calls the geocoder before it takes the write lock, so a slow Census answer
  never holds the intake up (tasks/actions.py).
- A forked process opens its own pooled connections.
"""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import sqlite3
import time
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


def test_resolution_calls_the_geocoder_holding_no_write_lock(
        sqlite_services: Services) -> None:  # noqa: F811
    """During the Census call, another connection can write at once (busy timeout 0)."""
    from workers.celery_app import create_celery

    path = sqlite_services.settings.database_url.removeprefix("sqlite:///")
    writes_during_call: list[bool] = []

    class Observing(CensusHandler):
        def handle_request(self, method: str) -> None:
            other = sqlite3.connect(path, timeout=0, isolation_level=None)
            try:
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
                writes_during_call.append(True)
            except sqlite3.OperationalError:
                writes_during_call.append(False)
            finally:
                other.close()
            super().handle_request(method)

    with serve(Observing) as census:
        census.state["matches"] = [MIT]
        services = Services(replace(sqlite_services.settings, geocoder_url=census.url + "/"))
        with services.session() as session:
            load_campaign(session, CAMPAIGN_FILE)
            slug = session.scalar(sa.select(Campaign.slug))
            form = ActionForm(first_name="Ada", last_name="Lee", zip="02139",
                              email="ada@example.org",
                              address="77 Massachusetts Ave, Cambridge, MA")
            action_id = submit_action(session, slug, form).action_id
        app = create_celery(services.settings, services)
        app.loader.import_default_modules()
        app.tasks["actionwave.resolve_actions"].apply(args=[[str(action_id)]]).get()
        with services.session() as session:
            action = session.get(Action, action_id)
            assert action.status == "delivering"
            assert action.details["resolved_by"] == "matched"
        services.close()
    assert writes_during_call == [True]


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
