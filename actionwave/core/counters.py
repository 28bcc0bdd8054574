"""Running counts kept in the database, each bumped in the same transaction as what it counts.

Any process may bump them and every process reads the same numbers: the delivery engine counts
sends by channel and rate-limit waits by bucket, the in-doubt sweep how each doubt was settled,
the bill watcher its polls by outcome. ``/metrics`` exposes them as Prometheus counters
(``actionwave.system.metrics``), so the workers' counts reach a scrape of any web process. Names are
``family:label`` (``deliveries_sent:email``) or bare (``in_doubt``).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import BigInteger, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from actionwave.core.models import Base
from actionwave.platform.db import dialect_insert


class RunningCount(Base):
    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


def bump_counters(session: Session, counts: Mapping[str, int]) -> None:
    """Add ``counts`` to the named counters (created at 0). Part of the caller's transaction;
    call it last before the commit, since it holds the counters' rows until then."""
    rows = [{"name": name, "value": value} for name, value in sorted(counts.items()) if value]
    if not rows:
        return
    table = RunningCount.__table__
    stmt = dialect_insert(session, table).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.name], set_={"value": table.c.value + stmt.excluded.value}
    )
    session.execute(stmt)


def read_counters(session: Session, family: str | None = None) -> dict[str, int]:
    """Every counter, or those of one ``family`` keyed by their label."""
    query = select(RunningCount.name, RunningCount.value)
    if family is None:
        return dict(session.execute(query).all())
    prefix = f"{family}:"
    rows = session.execute(query.where(RunningCount.name.startswith(prefix)))
    return {name.removeprefix(prefix): value for name, value in rows}
