"""Engine and session factory for PostgreSQL (production) and SQLite (embedded default)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Insert, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool


def make_engine(url: str, *, pool_size: int = 10, **kwargs: Any) -> Engine:
    """Create an engine tuned for the backend behind ``url``.

    SQLite runs in WAL mode with ``synchronous=FULL`` so an answered submission survives a crash,
    and with a busy timeout so the web, the worker and beat can share the file.
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, poolclass=NullPool, connect_args={"timeout": 30}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_engine(
        url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, **kwargs
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    # Take the write lock at BEGIN: two writers never deadlock upgrading a read lock.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def dialect_insert(bind: Session | Engine | Connection, table: Any) -> Insert:
    """An INSERT with ``on_conflict_*`` support for the backend in use (PostgreSQL or SQLite)."""
    dialect = bind.get_bind().dialect if isinstance(bind, Session) else bind.dialect
    module = postgresql if dialect.name == "postgresql" else sqlite
    return module.insert(table)


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
