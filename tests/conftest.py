"""Shared fixtures: a real PostgreSQL database and Redis per test session, real Celery workers.

``TEST_DATABASE_URL`` (default: the local PostgreSQL) names a server where a throwaway database
is created per session; ``TEST_REDIS_URL`` (default: local Redis db 0) is the broker. Each session
uses its own database, Celery queue and Redis key namespace, so parallel runs don't collide.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from sqlalchemy.orm import Session

from actionwave.campaigns.files import load_campaign
from actionwave.core.models import Campaign
from actionwave.legislators.sources import read_source
from actionwave.legislators.sync import store_snapshot
from actionwave.platform.config import Settings
from actionwave.platform.migrate import upgrade
from actionwave.system.schema import metadata
from actionwave.system.services import Services
from tests.support import RedisServer, WorkerProcess

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("ACTIONWAVE_SHARED_DATA", ROOT.parent / "shared" / "data"))
CAMPAIGN_FILE = ROOT / "campaigns" / "hketo-certification-act.yaml"
# A made-up second campaign, always loaded beside the first: nothing may leak between them.
SECOND_CAMPAIGN_FILE = ROOT / "tests" / "campaigns" / "second-campaign.yaml"
SERVER_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# The Prometheus scrape's own secret (METRICS_TOKEN); API tokens don't open /metrics.
METRICS_TOKEN = "test-metrics-scrape-token"


def _admin_engine() -> sa.Engine:
    return sa.create_engine(SERVER_URL, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def token() -> str:
    return secrets.token_hex(4)


@pytest.fixture(scope="session")
def database_url(token: str) -> Iterator[str]:
    """A fresh PostgreSQL database, migrated once for the session and dropped after it."""
    name = f"aw_test_{token}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(scope="session")
def settings(database_url: str, token: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings.from_env(
        {},
        database_url=database_url,
        broker_url=REDIS_URL,
        redis_url=REDIS_URL,
        namespace=f"aw-test-{token}",
        instance_path=tmp_path_factory.mktemp("instance"),
        secret_key="test-secret-key",
        metrics_token=METRICS_TOKEN,
        worker_pool="threads",
        worker_concurrency=4,
        outbox_poll_seconds=0.05,
        # Some tests read Celery's line for each task done or sent by beat.
        celery_log_level="INFO",
        # Abuse limits off: tests submit from one address; tests/test_abuse.py turns them on.
        rate_limit_per_ip="",
        rate_limit_per_email="",
        rate_limit_lookups="",
        rate_limit_address_lookups="",
    )


@pytest.fixture(scope="session")
def services(settings: Settings) -> Iterator[Services]:
    services = Services(settings)
    yield services
    services.close()


@pytest.fixture(scope="session", autouse=True)
def legislator_snapshot(services: Services) -> None:
    """The real legislators and ZIP crosswalk from ../shared/data, synced once per session."""
    with services.session() as session:
        store_snapshot(session, read_source(str(SHARED_DATA)))


@pytest.fixture
def db_session(services: Services) -> Iterator[Session]:
    """A session whose commits are savepoints inside a transaction rolled back after the test."""
    connection = services.engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint",
                      expire_on_commit=False)
    yield session
    session.close()
    outer.rollback()
    connection.close()


@pytest.fixture
def committed_db(services: Services) -> Iterator[Services]:
    """For tests whose data must be seen by other processes: tables emptied afterwards."""
    yield services
    truncate_all(services.engine)


# Reference data loaded once per session (see ``legislator_snapshot``), kept between tests.
KEPT_TABLES = {"legislator_snapshots", "legislator_snapshot_current", "legislators",
               "zip_districts"}


def truncate_all(engine: sa.Engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables
                       if t.name not in KEPT_TABLES)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture
def campaign_slug(services: Services) -> str:
    """The example campaign, loaded (idempotently) and committed, with the made-up second
    campaign loaded after it (``second_campaign``), so every test runs with two campaigns."""

    with services.session() as session:
        slug = load_campaign(session, CAMPAIGN_FILE).slug
        load_campaign(session, SECOND_CAMPAIGN_FILE)
        return slug


@pytest.fixture
def second_campaign(campaign_slug: str) -> str:
    """The slug of the made-up second campaign (loaded by ``campaign_slug``)."""
    return "test-second-campaign"


@pytest.fixture
def app(settings: Settings, services: Services):  # type: ignore[no-untyped-def]
    from web import create_app

    app = create_app(settings, services)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis server of the test's own, on a free port, that the test may stop and start."""
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()


@pytest.fixture
def start_worker(settings: Settings, tmp_path: Path):  # type: ignore[no-untyped-def]
    """``start_worker(settings=None, **env)`` starts a real worker; all stop after the test."""
    started: list[WorkerProcess] = []

    def start(worker_settings: Settings | None = None, args: tuple[str, ...] = (),
              **extra_env: str) -> WorkerProcess:
        log = tmp_path / f"worker-{len(started)}.log"
        worker = WorkerProcess(worker_settings or settings, log, extra_env, args)
        started.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in started:
        worker.stop()


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture
def live_server(app):  # type: ignore[no-untyped-def]
    """The app served over real HTTP on 127.0.0.1 in a background thread; yields its base URL."""
    from tests.organizer_support import served

    with served(app) as url:
        yield url


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    """Debian's Chromium driven by Playwright (Playwright's own browser download fails here)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make test does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(params=["postgresql", "sqlite"])
def worker_store(request: pytest.FixtureRequest, settings: Settings,
                 tmp_path: Path) -> Iterator[Services]:
    """For tests with a real worker: services on PostgreSQL and Redis, or as ``make run`` sets
    them (a SQLite database, a SQLite broker, no Redis); the example campaign and the legislator
    data loaded."""
    if request.param == "postgresql":
        services = request.getfixturevalue("committed_db")
    else:
        url = f"sqlite:///{tmp_path / 'actionwave.db'}"
        upgrade(url)
        services = Services(replace(settings, database_url=url, redis_url="",
                                    broker_url=f"sqla+sqlite:///{tmp_path / 'broker.db'}"))
        with services.session() as session:
            store_snapshot(session, read_source(str(SHARED_DATA)))
    with services.session() as session:
        if session.scalar(sa.select(Campaign.id).limit(1)) is None:
            load_campaign(session, CAMPAIGN_FILE)
    yield services
    if request.param == "sqlite":
        services.close()
