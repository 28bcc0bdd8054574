"""Engine and session factory for PostgreSQL (production) and SQLite (embedded default)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, Insert, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

if TYPE_CHECKING:
    from actionwave.platform.config import Settings


@dataclass(frozen=True)
class PostgresOptions:
    """Pool and session limits of a PostgreSQL engine (the ``DB_*`` settings)."""

    pool_size: int = 10
    max_overflow: int = 10
    pool_timeout: float = 30.0
    connect_timeout: int = 5
    statement_timeout_ms: int = 60_000
    lock_timeout_ms: int = 10_000
    pgbouncer: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> PostgresOptions:
        return cls(settings.db_pool_size, settings.db_max_overflow,
                   settings.db_pool_timeout_seconds, settings.db_connect_timeout_seconds,
                   settings.db_statement_timeout_ms, settings.db_lock_timeout_ms,
                   settings.db_pgbouncer)

    def connect_args(self) -> dict[str, Any]:
        """psycopg's connect arguments. PgBouncer in transaction mode hands each transaction a
        different server connection, so a statement prepared on one is missing on the next
        (``prepare_threshold=None``), and it refuses the ``options`` startup parameter: there
        its ``connect_query`` sets the timeouts (deploy/pgbouncer/pgbouncer.ini)."""
        args: dict[str, Any] = {"connect_timeout": self.connect_timeout}
        if self.pgbouncer:
            args["prepare_threshold"] = None
            return args
        options = [f"-c {name}={value}" for name, value in (
            ("statement_timeout", self.statement_timeout_ms),
            ("lock_timeout", self.lock_timeout_ms)) if value]
        if options:
            args["options"] = " ".join(options)
        return args


def make_engine(url: str, postgres: PostgresOptions | None = None, **kwargs: Any) -> Engine:
    """Create an engine tuned for the backend behind ``url``.

    PostgreSQL gets ``postgres`` (default: the settings' defaults) for its pool, timeouts and
    PgBouncer's needs.

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
        event.listen(engine, "begin", _sqlite_begin)
        event.listen(engine, "before_cursor_execute", _sqlite_write_on_demand)
        return engine
    postgres = postgres or PostgresOptions()
    return create_engine(
        url, pool_size=postgres.pool_size, max_overflow=postgres.max_overflow,
        pool_timeout=postgres.pool_timeout, pool_pre_ping=True,
        connect_args={**postgres.connect_args(), **kwargs.pop("connect_args", {})}, **kwargs
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


# A connection with this execution option (``reads_first``) begins its transactions as readers.
READS_FIRST = "sqlite_reads_first"
_READING = "sqlite_reading"
_READ_KEYWORDS = ("SELECT", "PRAGMA", "EXPLAIN")


def _sqlite_begin(connection: Any) -> None:
    if connection.get_execution_options().get(READS_FIRST):
        # A reader in WAL mode neither waits for nor blocks the writer.
        connection.exec_driver_sql("BEGIN DEFERRED")
        connection.info[_READING] = True
        return
    # Take the write lock at BEGIN: two writers never deadlock upgrading a read lock.
    connection.exec_driver_sql("BEGIN IMMEDIATE")
    connection.info[_READING] = False


def _sqlite_write_on_demand(connection: Any, cursor: Any, statement: str, _parameters: Any,
                            _context: Any, _executemany: bool) -> None:
    """In a ``reads_first`` transaction, the first statement that writes ends the read and takes
    the write lock (``BEGIN IMMEDIATE``) before it runs. SQLite would otherwise upgrade the read
    in place, and answer "database is locked" at once when another connection wrote since the
    read began. What was read stays as read; each statement sees the latest commit, as under
    PostgreSQL's READ COMMITTED, which the code is written for."""
    if not connection.info.get(_READING):
        return
    if statement.lstrip().split(None, 1)[0].upper() in _READ_KEYWORDS:
        return
    cursor.execute("COMMIT")
    cursor.execute("BEGIN IMMEDIATE")
    connection.info[_READING] = False


def reads_first(engine: Engine) -> Engine:
    """``engine`` whose transactions hold no lock until they first write (on SQLite; the same
    engine elsewhere). For web requests: a page that only reads never waits for a worker's write,
    and a request never holds the write lock while it waits for something else, such as a second
    connection that stores a submission."""
    if engine.dialect.name != "sqlite":
        return engine
    return engine.execution_options(**{READS_FIRST: True})


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def dialect_insert(bind: Session | Engine | Connection, table: Any) -> Insert:
    """An INSERT with ``on_conflict_*`` support for the backend in use (PostgreSQL or SQLite)."""
    dialect = bind.get_bind().dialect if isinstance(bind, Session) else bind.dialect
    module = postgresql if dialect.name == "postgresql" else sqlite
    return module.insert(table)


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
