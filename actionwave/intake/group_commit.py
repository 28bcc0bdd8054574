"""Group commit: the submissions of concurrent requests, written in one statement and one commit.

A request hands its row to the process's writer (an ``actionwave.platform.batching.Batcher``) and
waits; the writer stores every row waiting with ``submissions.store_submissions`` in one
autocommitted statement and wakes each request with its own answer. One row per email address goes
into a statement (PostgreSQL's upsert may touch a supporter once per statement); a second row for
the same address waits for the next one. Nothing is answered before PostgreSQL has committed it, so
a 202 still means "on disk"; under load one round trip and one WAL flush serve many submissions.

The writer keeps one connection of its own: a pool checkout with its liveness ping costs each
batch more than the statement itself (docs/performance.md). A
connection found dead (PostgreSQL restarted) is replaced and the batch tried once more on the new
one; that is safe because the statement is idempotent (a row already stored comes back as it is).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from actionwave.intake.storage import Submission, store_submissions
from actionwave.platform.batching import Batcher

log = logging.getLogger(__name__)


class GroupCommitWriter:
    """A ``SubmissionStore`` for PostgreSQL that writes concurrent submissions together.

    ``observe`` is called with the number of rows of each batch (the caller's metric)."""

    def __init__(self, engine: Engine, max_batch: int = 256, wait_seconds: float = 20.0,
                 observe: Callable[[int], None] | None = None) -> None:
        self.engine = engine
        self._connection: Connection | None = None
        self._pid = 0
        self.batcher: Batcher[dict[str, Any], Submission | None] = Batcher(
            self.write, name="group-commit", max_batch=max_batch, wait_seconds=wait_seconds,
            key=lambda row: row["email"], observe=observe,
        )

    def store(self, row: dict[str, Any]) -> Submission | None:
        return self.batcher.submit(row)

    def write(self, rows: list[dict[str, Any]]) -> list[Submission | BaseException | None]:
        """Store ``rows`` in one statement; if that fails for a reason other than a lost
        connection, row by row, so that one bad row fails only its own request."""
        try:
            return self._store(rows)
        except DBAPIError as exc:
            if len(rows) == 1 or isinstance(exc, OperationalError) or exc.connection_invalidated:
                return [exc] * len(rows)
            log.warning("group commit of %d rows failed (%s); writing them one by one",
                        len(rows), type(exc).__name__)
            return [result for row in rows for result in self.write([row])]

    def _store(self, rows: list[dict[str, Any]], retry: bool = True) -> list[Submission | None]:
        reused = self._connection is not None and self._pid == os.getpid()
        try:
            return list(store_submissions(self._connect(), rows))
        except DBAPIError as exc:
            if not (isinstance(exc, OperationalError) or exc.connection_invalidated):
                raise
            self.close()
            if not (retry and reused):
                raise
        # It had lain idle since the last batch: PostgreSQL may have restarted meanwhile.
        return self._store(rows, retry=False)

    def _connect(self) -> Connection:
        if self._connection is None or self._pid != os.getpid():
            # A forked child never touches its parent's connection; it opens its own.
            self._connection = self.engine.connect().execution_options(
                isolation_level="AUTOCOMMIT")
            self._pid = os.getpid()
        return self._connection

    def close(self) -> None:
        """Drop the writer's connection (the next batch opens a new one)."""
        if self._connection is not None and self._pid == os.getpid():
            self._connection.invalidate()
            self._connection.close()
        self._connection = None


class SqliteGroupCommit(GroupCommitWriter):
    """The same group commit on SQLite (the embedded default): the submissions waiting are
    written in one ``BEGIN IMMEDIATE`` transaction, so one write lock and one fsync
    (``synchronous=FULL``) serve them all instead of one each. Each batch has a session of its
    own, closed at once: no lock is held between batches."""

    def __init__(self, session_factory: sessionmaker[Session], max_batch: int = 256,
                 wait_seconds: float = 20.0,
                 observe: Callable[[int], None] | None = None) -> None:
        super().__init__(session_factory.kw["bind"], max_batch, wait_seconds, observe)
        self.session_factory = session_factory

    def _store(self, rows: list[dict[str, Any]], retry: bool = True) -> list[Submission | None]:
        with self.session_factory() as session:
            stored = list(store_submissions(session.connection(), rows))
            session.commit()
            return stored

    def close(self) -> None:
        """Nothing to let go of: each batch had a session of its own."""
