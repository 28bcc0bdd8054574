"""The transactional outbox relay: committed messages are published to the broker, then deleted.

Publishing is at-least-once (a crash between publish and delete publishes again), so every task
fed from here is idempotent. Several relays may run at once: on PostgreSQL they claim disjoint
rows with ``FOR UPDATE SKIP LOCKED``; on SQLite the write lock serialises them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from actionwave.core.models import Action, OutboxMessage
from actionwave.intake.storage import ACCEPTED_TOPIC
from actionwave.platform.db import is_postgres

Publish = Callable[[str, Sequence[str]], None]
"""Publishes one topic with a batch of refs; raises if the broker did not take it."""


def relay_outbox(session_factory: sessionmaker[Session], publish: Publish, limit: int = 200,
                 created_before: datetime | None = None) -> int:
    """Publish up to ``limit`` pending messages and delete them. Returns how many were relayed.

    With ``created_before``, messages created later stay for a later call
    (``actionwave.intake.surge``). If ``publish`` raises, the transaction rolls back and the
    messages stay for the next try.
    """
    with session_factory() as session:
        if created_before is not None:
            oldest = session.scalar(
                select(OutboxMessage.created_at).order_by(OutboxMessage.id).limit(1))
            if oldest is None or oldest > created_before:  # nothing due: no row locked
                return 0
        query = select(
            OutboxMessage.id, OutboxMessage.topic, OutboxMessage.ref, OutboxMessage.created_at
        ).order_by(OutboxMessage.id).limit(limit)
        if is_postgres(session):
            query = query.with_for_update(skip_locked=True)
        rows = session.execute(query).all()
        if created_before is not None:
            # Filtered here, not in SQL: the oldest rows come first, and a WHERE on created_at
            # would make PostgreSQL walk every younger row (a surge's whole backlog) each poll.
            rows = [row for row in rows if row.created_at <= created_before]
        if not rows:
            session.rollback()
            return 0
        by_topic: dict[str, list[str]] = defaultdict(list)
        for row in rows:
            by_topic[row.topic].append(row.ref)
        for topic, refs in by_topic.items():
            publish(topic, refs)
        session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_([r.id for r in rows])))
        session.commit()
        return len(rows)


def newest_message_id(session: Session) -> int | None:
    """The id of the newest message waiting (ids grow with every message ever written)."""
    return session.scalar(select(func.max(OutboxMessage.id)))


def requeue_stalled_actions(
    session: Session, older_than: timedelta, now: datetime | None = None
) -> int:
    """Queue again every action still ``accepted`` after ``older_than``; returns how many.

    The broker is not the source of truth: a Redis restart can drop tasks that were relayed but
    not yet consumed. Resolution is idempotent, so a second message for an action is harmless.
    """
    now = now or datetime.now(UTC)
    cutoff = now - older_than
    stalled = session.scalars(
        select(Action.id)
        .where(Action.status == "accepted", Action.updated_at < cutoff)
        .order_by(Action.updated_at)
        .limit(5000)
    ).all()
    if not stalled:
        return 0
    session.execute(
        update(Action).where(Action.id.in_(stalled), Action.status == "accepted")
        .values(updated_at=now)
    )
    session.execute(
        OutboxMessage.__table__.insert(),
        [{"topic": ACCEPTED_TOPIC, "ref": str(action_id), "created_at": now}
         for action_id in stalled],
    )
    session.commit()
    return len(stalled)
