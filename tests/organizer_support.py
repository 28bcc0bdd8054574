"""Fixtures for the organizer's pages and commands on both stores: PostgreSQL and the embedded
SQLite database exactly as ``actionwave up`` makes it (migrated, legislators synced, the example
campaign loaded). Import the fixtures into a test module to use them."""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.serving import make_server

from actionwave.accounts.services import create_user
from actionwave.campaigns.files import load_campaign
from actionwave.legislators.sources import read_source
from actionwave.legislators.sync import store_snapshot
from actionwave.platform.config import Settings
from actionwave.platform.migrate import upgrade
from actionwave.system.schema import metadata
from actionwave.system.services import Services
from tests.conftest import CAMPAIGN_FILE, KEPT_TABLES, SHARED_DATA, truncate_all

PASSWORD = "correct horse battery"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "instance" / "screenshots"
ROLES = ("viewer", "organizer")


@pytest.fixture(scope="module")
def sqlite_services(settings: Settings,
                    tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """The embedded default's database (SQLite under the instance folder), synced once."""
    instance = tmp_path_factory.mktemp("embedded")
    own = replace(settings, instance_path=instance,
                  database_url=f"sqlite:///{instance / 'actionwave.db'}")
    upgrade(own.database_url)
    services = Services(own)
    with services.session() as session:
        store_snapshot(session, read_source(str(SHARED_DATA)))
    yield services
    services.close()


def _clear_sqlite(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            if table.name not in KEPT_TABLES:
                conn.execute(table.delete())


@pytest.fixture(params=["postgresql", "sqlite"])
def store(request: pytest.FixtureRequest) -> Iterator[Services]:
    """Services on PostgreSQL, then on the embedded SQLite database: the example campaign
    loaded and a viewer and an organizer account; emptied after the test."""
    if request.param == "postgresql":
        services = request.getfixturevalue("services")
    else:
        services = request.getfixturevalue("sqlite_services")
    with services.session() as session:
        load_campaign(session, CAMPAIGN_FILE)
        for role in ROLES:
            create_user(session, f"{role}@example.org", PASSWORD, role)
    yield services
    if request.param == "postgresql":
        truncate_all(services.engine)
    else:
        _clear_sqlite(services.engine)


@contextlib.contextmanager
def served(app: Flask) -> Iterator[str]:
    """``app`` over real HTTP on 127.0.0.1 in a background thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def store_app(services: Services) -> Flask:
    from web import create_app

    app = create_app(services.settings, services)
    app.config["TESTING"] = True
    return app


def sign_in_page(page, base: str, role: str = "organizer") -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/console/login")
    page.fill("#email", f"{role}@example.org")
    page.fill("#password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(re.escape(base) + r"/console/(\?.*)?$"))
