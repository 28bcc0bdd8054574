"""Run the Alembic migrations shipped inside the package, one runner at a time.

Several hosts may start a release at once: on PostgreSQL every runner first takes a transaction
advisory lock, so the second waits for the first and then finds nothing left to do. The lock
lives in the migration's own transaction, so it also works through PgBouncer in transaction
mode. Statements get no time limit (a migration may rewrite a big table), but waiting for a
table lock does: DDL queued behind a long transaction would hold up every query behind it, so
it fails after ``lock_timeout_ms`` and the release is run again (docs/runbook.md).
"""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from actionwave.platform.db import make_engine

MIGRATIONS = files("actionwave") / "migrations"  # shipped in the package (pyproject)
# pg_advisory_xact_lock's key: any fixed bigint; this one spells "actionwv".
LOCK_KEY = int.from_bytes(b"actionwv", "big") & 0x7FFF_FFFF_FFFF_FFFF
MIGRATION_LOCK_TIMEOUT_MS = 10_000


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "heads",
            lock_timeout_ms: int = MIGRATION_LOCK_TIMEOUT_MS) -> None:
    """Bring the database at ``database_url`` to ``revision`` (default: the newest)."""
    config = alembic_config(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SET LOCAL statement_timeout = 0"))
                connection.execute(text(f"SET LOCAL lock_timeout = {int(lock_timeout_ms)}"))
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            connection.commit()  # ends the transaction, releasing the lock
    finally:
        engine.dispose()


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)
