"""Tables of the delivery engine beyond the core ``deliveries`` table."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import BigInteger, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from actionwave.db import dialect_insert
from actionwave.models import Base


class DeliveryCounter(Base):
    """A running count kept by the engine (how in-doubt sends were settled), bumped in the same
    transaction as the change it counts."""

    __tablename__ = "delivery_counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


def bump_counters(session: Session, counts: Mapping[str, int]) -> None:
    """Add ``counts`` to the named counters (created at 0). Part of the caller's transaction."""
    rows = [{"name": name, "value": value} for name, value in sorted(counts.items()) if value]
    if not rows:
        return
    table = DeliveryCounter.__table__
    stmt = dialect_insert(session, table).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.name], set_={"value": table.c.value + stmt.excluded.value}
    )
    session.execute(stmt)


def read_counters(session: Session) -> dict[str, int]:
    return dict(session.execute(select(DeliveryCounter.name, DeliveryCounter.value)).all())
