"""Recording and counting the calls supporters report."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from actionwave.calls.models import Call
from actionwave.core.models import Action
from actionwave.platform.db import dialect_insert


class NotCallable(LookupError):
    """The action is unknown, or the legislator is neither its target nor a sitting member."""


def record_call(session: Session, action_id: uuid.UUID, bioguide_id: str,
                legislators: Collection[str]) -> bool:
    """Record that the supporter of ``action_id`` called ``bioguide_id``'s office, one of
    ``legislators`` (the message's: its targets, or before it is resolved, its lookup's).
    Idempotent: a second report of the same call is no new call (returns False). Commits.
    Raises ``NotCallable``."""
    action = session.get(Action, action_id)
    if action is None or bioguide_id not in legislators:
        raise NotCallable("not a legislator of this message")
    inserted = session.scalar(
        dialect_insert(session, Call.__table__)
        .values(action_id=action_id, campaign_id=action.campaign_id, bioguide_id=bioguide_id)
        .on_conflict_do_nothing(index_elements=["action_id", "bioguide_id"])
        .returning(Call.id))
    session.commit()
    return inserted is not None


def calls_of(session: Session, action_id: uuid.UUID) -> set[str]:
    """The bioguide ids of the offices the supporter of ``action_id`` reported calling."""
    return set(session.scalars(select(Call.bioguide_id).where(Call.action_id == action_id)))


def count_calls(session: Session, campaign_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Call)
                          .where(Call.campaign_id == campaign_id)) or 0
