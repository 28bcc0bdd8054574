"""The intake path through PgBouncer in transaction mode (docker-compose's `pgbouncer` profile):
web and a real worker on ``DB_PGBOUNCER=true`` share a handful of server connections."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa

from actionwave.platform.config import Settings
from actionwave.platform.db import PostgresOptions, make_engine
from actionwave.system.services import Services
from tests.support import PgBouncer, wait_for

pytestmark = pytest.mark.skipif(
    not (shutil.which("pgbouncer") or Path("/usr/sbin/pgbouncer").exists()),
    reason="pgbouncer is not installed (apt-get install pgbouncer)")

VALID = {"email": "pooled@example.org", "first_name": "Pat", "last_name": "Pool", "zip": "82001"}


@pytest.fixture
def pgbouncer(settings: Settings, tmp_path: Path) -> Iterator[PgBouncer]:
    bouncer = PgBouncer(tmp_path, settings.database_url, pool_size=3,
                        statement_timeout_ms=4321, lock_timeout_ms=1234)
    bouncer.start()
    yield bouncer
    bouncer.stop()


def test_psycopg_needs_the_pgbouncer_setting(pgbouncer: PgBouncer):
    """Without DB_PGBOUNCER the startup options are refused; with it the timeouts come from
    PgBouncer's connect_query and statements are never prepared."""
    direct = make_engine(pgbouncer.url, PostgresOptions())
    with pytest.raises(sa.exc.OperationalError, match="options"):
        direct.connect().close()
    direct.dispose()
    pooled = make_engine(pgbouncer.url, PostgresOptions(pgbouncer=True))
    with pooled.connect() as connection:
        assert connection.exec_driver_sql("SHOW statement_timeout").scalar() == "4321ms"
        assert connection.exec_driver_sql("SHOW lock_timeout").scalar() == "1234ms"
        for n in range(20):  # past psycopg's prepare threshold (5), across server connections
            assert connection.execute(sa.text("SELECT :n"), {"n": n}).scalar() == n
            connection.commit()
    pooled.dispose()


def test_the_intake_path_runs_through_pgbouncer_in_transaction_mode(
        settings: Settings, pgbouncer: PgBouncer, campaign_slug: str, committed_db,
        start_worker):
    from web import create_app

    pooled = replace(settings, database_url=pgbouncer.url, db_pgbouncer=True)
    services = Services(pooled)
    try:
        client = create_app(pooled, services).test_client()
        start_worker(pooled)
        answers = [client.post(f"/api/v1/campaigns/{campaign_slug}/actions",
                               json={**VALID, "email": f"pooled{n}@example.org"})
                   for n in range(30)]
        assert [a.status_code for a in answers] == [202] * 30
        urls = [a.get_json()["status_url"] for a in answers]
        wait_for(lambda: all(client.get(u).get_json()["status"] != "accepted" for u in urls),
                 timeout=60, message="the worker, through PgBouncer, to resolve every action")
    finally:
        services.close()
