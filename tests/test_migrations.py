"""The migrations build exactly the schema the models describe, on both stores.

A model changed without a migration (or a migration that drifts from its model) works in tests
that create tables from the models, then fails on a real deployment that only runs migrations.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from actionwave.platform.migrate import upgrade
from actionwave.system.schema import metadata


def schema_differences(url: str) -> list[object]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def test_migrated_sqlite_matches_the_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    upgrade(url)
    assert schema_differences(url) == []


def test_migrated_postgresql_matches_the_models(database_url: str) -> None:
    # ``database_url`` is migrated once for the test session by the fixture.
    assert schema_differences(database_url) == []


def test_migrations_run_twice_without_change(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'again.db'}"
    upgrade(url)
    upgrade(url)
    assert schema_differences(url) == []
