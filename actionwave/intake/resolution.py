"""Turning an accepted action into targets and planned deliveries."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, String, bindparam, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from actionwave.core.models import Action, Campaign, Supporter, Target
from actionwave.legislators.geocoder import Geocoder
from actionwave.legislators.index import ZipIndex, load_index
from actionwave.legislators.lookup import ZipNotFound, find_legislators
from actionwave.platform.db import dialect_insert

Place = tuple[str | None, int | None]
"""Where a supporter is, as far as known: (state, district), None for what is not."""


def resolve_actions(session: Session, action_ids: Sequence[uuid.UUID],
                    geocoder: Geocoder | None = None,
                    index: ZipIndex | None = None) -> list[tuple[uuid.UUID, list[Target]]]:
    """Store the legislators each accepted action goes to, and move it on. Flushes, does not
    commit: the caller commits it together with the actions' planned deliveries, so no crash can
    leave an action resolved with nothing planned (a crash before the commit leaves it
    ``accepted``, and the relay's sweep queues it again).

    The supporter's ZIP is narrowed by the district they chose or, through ``geocoder``, by their
    street address. One district: status ``resolved`` with the targets of the campaign's
    chambers (a vacant seat has none). The supporter's state and district are stored as far as
    they are known (the state when the ZIP, the choice or the address puts them in one state),
    for quiet hours, segments and the organizer's views. A split ZIP nothing decides, or a ZIP
    the crosswalk doesn't know: ``needs_address``, keeping the senators when the ZIP lies in one
    state.

    A batch costs a handful of statements whatever its size (the relay hands actions over in
    batches on launch day). Idempotent: an action past ``accepted`` is left as it is, and the
    status only moves on from ``accepted`` in the database too, so two workers given the same
    action do not undo each other. Returns each action's targets in the order given (empty for an
    unknown action). Raises ``NoSnapshot`` before the first data sync. ``index``: the process's
    in-memory index of the current snapshot (``Services.legislators``); without it the
    supporters' ZIPs are read from the database.

    The three steps are also called one by one (tasks/actions.py), so that the geocoder is asked
    with no transaction open: ``load_pending`` reads, ``decide`` may call the geocoder and touches
    no database, ``store_decisions`` writes.
    """
    pending = load_pending(session, action_ids, index)
    return store_decisions(session, pending, decide(pending, geocoder))


@dataclass
class Pending:
    """The accepted actions of a batch, read with what deciding them needs."""

    action_ids: list[uuid.UUID]
    actions: list[Action]
    supporters: dict[int, Supporter]
    chambers: dict[int, list[str]]
    index: ZipIndex | None


Decision = tuple[str, str, list[dict[str, Any]], Place]
"""An action's status, how its district was found, the people it goes to, where the supporter
is."""


def load_pending(session: Session, action_ids: Sequence[uuid.UUID],
                 index: ZipIndex | None = None) -> Pending:
    """Read the batch's actions still ``accepted``, their supporters and campaigns' chambers."""
    actions = list(session.scalars(select(Action).where(
        Action.id.in_(action_ids), Action.status == "accepted")))
    if not actions:
        return Pending(list(action_ids), [], {}, {}, index)
    supporters = {supporter.id: supporter for supporter in session.scalars(
        select(Supporter).where(Supporter.id.in_({a.supporter_id for a in actions})))}
    chambers = dict(session.execute(select(Campaign.id, Campaign.target_chambers).where(
        Campaign.id.in_({a.campaign_id for a in actions}))).all())
    if index is None:
        index = load_index(session, zips={s.zip for s in supporters.values()})
    return Pending(list(action_ids), actions, supporters, chambers, index)


def decide(pending: Pending, geocoder: Geocoder | None) -> list[Decision]:
    """Each pending action's decision, in order. Touches no database; may call the geocoder."""
    return [_decide(action, pending.supporters[action.supporter_id],
                    pending.chambers.get(action.campaign_id) or [], geocoder,
                    pending.index)  # type: ignore[arg-type]
            for action in pending.actions]


def store_decisions(session: Session, pending: Pending,
                    decisions: Sequence[Decision]) -> list[tuple[uuid.UUID, list[Target]]]:
    """Write the decisions (targets, statuses, places); flushes, does not commit. Returns each
    action's targets in the order of ``pending.action_ids``."""
    found: dict[uuid.UUID, list[Target]] = {action_id: [] for action_id in pending.action_ids}
    resolved_here = _store(session, pending, decisions) if pending.actions else {}
    found.update(resolved_here)
    session.flush()
    # Only actions resolved before (a redelivered task) or by a worker racing this one have
    # targets that this call did not insert itself: only they are read back. Reading every
    # action's targets by ``action_id IN (...)`` scanned the whole table whenever PostgreSQL had
    # no statistics for it yet (a fresh database on launch day).
    earlier = [action_id for action_id in pending.action_ids if action_id not in resolved_here]
    if earlier:
        for target in session.scalars(select(Target).where(Target.action_id.in_(earlier))
                                      .order_by(Target.id)):
            found[target.action_id].append(target)
    return list(found.items())


def _store(session: Session, pending: Pending,
           decisions: Sequence[Decision]) -> dict[uuid.UUID, list[Target]]:
    """Store each action's targets and status. Returns the targets inserted, by action, for the
    actions whose targets are all new (a racing worker's leave theirs out)."""
    targets: list[dict[str, Any]] = []
    outcomes: list[dict[str, Any]] = []
    places: dict[int, Place] = {}
    now = datetime.now(UTC)
    for action, (status, how, people, place) in zip(pending.actions, decisions, strict=True):
        if place != (None, None):
            places[action.supporter_id] = place
        targets += [{"action_id": action.id, "bioguide_id": p["bioguide_id"],
                     "chamber": p["chamber"], "state": p["state"], "district": p["district"],
                     "name": p["name"], "cwc_office": p["cwc_office"], "info": dict(p)}
                    for p in people]
        outcome = {"status": status, "updated_at": now,
                   "resolved_at": now if status == "resolved" else None,
                   "details": {**(action.details or {}), "resolved_by": how}}
        outcomes.append({"action_id": action.id, **outcome})
        for key, value in outcome.items():  # what the UPDATE below writes, without reading it back
            set_committed_value(action, key, value)
    inserted: dict[uuid.UUID, list[Target]] = {action.id: [] for action in pending.actions}
    if targets:
        # render_nulls: one statement for all rows (the ORM otherwise groups them by which
        # values are None, and a senator has no district).
        insert = dialect_insert(session, Target).on_conflict_do_nothing(
            index_elements=["action_id", "bioguide_id"]).returning(Target).execution_options(
            render_nulls=True)
        for target in sorted(session.scalars(insert, targets), key=lambda t: t.id):
            inserted[target.action_id].append(target)
    table = Action.__table__
    session.execute(
        update(table).where(table.c.id == bindparam("action_id"), table.c.status == "accepted")
        .values(status=bindparam("status"), updated_at=bindparam("updated_at"),
                resolved_at=bindparam("resolved_at"), details=bindparam("details")),
        outcomes)
    _store_places(session, pending.supporters, places, now)
    planned = Counter(row["action_id"] for row in targets)
    return {action_id: rows for action_id, rows in inserted.items()
            if len(rows) == planned[action_id]}


def _store_places(session: Session, supporters: dict[int, Supporter],
                  places: dict[int, Place], now: datetime) -> None:
    """Write each supporter's state and district where now known (others kept), in one
    statement whatever the mix (the ORM would group rows by which columns changed)."""
    if not places:
        return
    table = Supporter.__table__
    session.execute(
        update(table).where(table.c.id == bindparam("supporter_id"))
        .values(state=func.coalesce(bindparam("new_state", type_=String), table.c.state),
                district=func.coalesce(bindparam("new_district", type_=Integer),
                                       table.c.district),
                updated_at=now),
        [{"supporter_id": ident, "new_state": state, "new_district": district}
         for ident, (state, district) in places.items()])
    for ident, (state, district) in places.items():  # as written, without reading it back
        supporter = supporters[ident]
        set_committed_value(supporter, "state", state or supporter.state)
        set_committed_value(supporter, "district",
                            district if district is not None else supporter.district)



def _decide(action: Action, supporter: Supporter, chambers: list[str], geocoder: Geocoder | None,
            index: ZipIndex) -> tuple[str, str, list[dict[str, Any]], Place]:
    """The action's status, how its district was found, the people it goes to, and where the
    supporter is."""
    details = action.details or {}
    try:
        result = find_legislators(
            index, supporter.zip, geocoder=geocoder,
            address=details.get("address") or supporter.address,
            district=details.get("district", supporter.district),
            state=details.get("state") or supporter.state,
        )
    except ZipNotFound:
        return "needs_address", "zip_not_found", [], (None, None)
    answer = result.answer
    states = {d["state"] for d in answer["districts"]}
    one_state = len(states) == 1
    # Two states and nothing to decide: the state stays as it was, never a guess.
    state = next(iter(states)) if one_state else None
    people: list[dict[str, Any]] = []
    if "senate" in chambers and one_state:
        people += answer["senators"]
    if "house" in chambers and not answer["ambiguous"]:
        people += [rep for rep in answer["representatives"] if not rep.get("vacant")]
    if answer["ambiguous"]:
        return "needs_address", result.address_status, people, (state, None)
    return "resolved", result.address_status, people, (state, answer["districts"][0]["district"])
