"""Engine and session factory for PostgreSQL (production) and SQLite (embedded default)."""

from __future__ import annotations

import fcntl
import functools
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, Insert, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

if TYPE_CHECKING:
    from actionwave.platform.config import Settings


# SQLite: how long a statement waits for a lock, and how often a writer asks again for the write
# lock while another connection holds it.
BUSY_TIMEOUT_MS = 30_000
WRITE_POLL_SECONDS = 0.001


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

    SQLite runs in WAL mode with ``synchronous=FULL`` so an answered submission survives a crash;
    the web, the worker and beat share the file, and a transaction that writes waits for its turn
    (``_begin_immediate``). Its connections are pooled: opening one (its pragmas, the WAL's
    index) and closing the last one (a checkpoint) cost a request more than its queries did.
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, poolclass=QueuePool, pool_size=16, max_overflow=-1,
            connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "checkout", _same_process)
        turns = WriterTurns(f"{path}-turns" if path and path != ":memory:" else None)
        event.listen(engine, "begin", functools.partial(_sqlite_begin, turns=turns))
        event.listen(engine, "before_cursor_execute",
                     functools.partial(_sqlite_write_on_demand, turns=turns))
        event.listen(engine, "commit", _sqlite_end)
        event.listen(engine, "rollback", _sqlite_end)
        return engine
    postgres = postgres or PostgresOptions()
    return create_engine(
        url, pool_size=postgres.pool_size, max_overflow=postgres.max_overflow,
        pool_timeout=postgres.pool_timeout, pool_pre_ping=True,
        connect_args={**postgres.connect_args(), **kwargs.pop("connect_args", {})}, **kwargs
    )


def _sqlite_pragmas(dbapi_connection: Any, record: Any) -> None:
    record.info["pid"] = os.getpid()
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


class WriterTurns:
    """On SQLite, a waiting intake writes before the background does.

    Supporters wait on the intake's group commit; the worker's transactions (resolving, planning,
    relaying) can wait. While an intake writer waits for the write lock it holds a shared
    ``flock`` on a file beside the database; a background writer about to begin asks for that
    file exclusively and, while it can't have it, lets the intake go first, for at most
    ``YIELD_SECONDS`` so that a long surge never stops the pipeline.
    """

    YIELD_SECONDS = 0.05

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._fd = -1
        self._pid = 0

    def _file(self) -> int:
        if self._pid != os.getpid():  # a forked child opens its own: flock is per open file
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)  # type: ignore[arg-type]
            self._pid = os.getpid()
        return self._fd

    def begin(self, connection: Connection, dbapi_connection: sqlite3.Connection) -> None:
        """Take the write lock for ``connection`` (an intake's if it has ``intake_first``)."""
        intake = bool(connection.get_execution_options().get(INTAKE))
        if self.path is None:
            _begin_immediate(dbapi_connection)
        elif intake:
            fcntl.flock(self._file(), fcntl.LOCK_SH)
            try:
                _begin_immediate(dbapi_connection)
            finally:
                fcntl.flock(self._file(), fcntl.LOCK_UN)
        else:
            self._let_intake_first()
            _begin_immediate(dbapi_connection)

    def _let_intake_first(self) -> None:
        deadline = time.monotonic() + self.YIELD_SECONDS
        while time.monotonic() < deadline:
            try:
                fcntl.flock(self._file(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                time.sleep(WRITE_POLL_SECONDS)
                continue
            fcntl.flock(self._file(), fcntl.LOCK_UN)
            return


def _begin_immediate(dbapi_connection: sqlite3.Connection) -> None:
    """``BEGIN IMMEDIATE``, asking again every millisecond while another connection writes.

    SQLite's own busy handler sleeps between tries for up to 100 ms each, and the sleep blocks
    the thread. A writer whose transactions follow each other closely (a busy worker) then takes
    the lock again and again while the others sleep, and the web's group commit starves. Here
    the lock is free to the first who asks within a millisecond of its release, and the sleep is
    ``time.sleep``, which under gevent lets the web serve other requests while it waits."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    dbapi_connection.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                dbapi_connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                    raise
            time.sleep(WRITE_POLL_SECONDS)
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def _same_process(_dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """A forked child never uses its parent's connection: it is dropped and a new one opened."""
    if record.info.get("pid") != os.getpid():
        record.dbapi_connection = proxy.dbapi_connection = None
        raise DisconnectionError("a connection of the parent process")


# A connection with this execution option (``reads_first``) begins its transactions as readers.
READS_FIRST = "sqlite_reads_first"
# One with this one (``intake_first``) writes before the background writers (``WriterTurns``).
INTAKE = "sqlite_intake"
_READING = "sqlite_reading"
_READ_KEYWORDS = ("SELECT", "PRAGMA", "EXPLAIN")


def _sqlite_begin(connection: Any, turns: WriterTurns) -> None:
    if connection.get_execution_options().get(READS_FIRST):
        # A reader in WAL mode neither waits for nor blocks the writer.
        connection.exec_driver_sql("BEGIN DEFERRED")
        connection.info[_READING] = True
        return
    # Take the write lock at BEGIN: two writers never deadlock upgrading a read lock.
    turns.begin(connection, connection.connection.dbapi_connection)
    connection.info[_READING] = False


def _sqlite_end(connection: Any) -> None:
    # The pooled connection outlives the transaction; the next one starts from BEGIN again.
    connection.info.pop(_READING, None)


def _sqlite_write_on_demand(connection: Any, cursor: Any, statement: str, _parameters: Any,
                            _context: Any, _executemany: bool, turns: WriterTurns) -> None:
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
    turns.begin(connection, cursor.connection)
    connection.info[_READING] = False


def reads_first(engine: Engine) -> Engine:
    """``engine`` whose transactions hold no lock until they first write (on SQLite; the same
    engine elsewhere). For web requests: a page that only reads never waits for a worker's write,
    and a request never holds the write lock while it waits for something else, such as a second
    connection that stores a submission."""
    if engine.dialect.name != "sqlite":
        return engine
    return engine.execution_options(**{READS_FIRST: True})


def intake_first(engine: Engine) -> Engine:
    """``engine`` whose writes go before the worker's and beat's on SQLite (``WriterTurns``;
    the same engine elsewhere): the web intake's, which supporters wait for."""
    if engine.dialect.name != "sqlite":
        return engine
    return engine.execution_options(**{INTAKE: True})


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def dialect_insert(bind: Session | Engine | Connection, table: Any) -> Insert:
    """An INSERT with ``on_conflict_*`` support for the backend in use (PostgreSQL or SQLite)."""
    dialect = bind.get_bind().dialect if isinstance(bind, Session) else bind.dialect
    module = postgresql if dialect.name == "postgresql" else sqlite
    return module.insert(table)


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
