"""Turning an accepted action into targets and planned deliveries."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from actionwave.db import dialect_insert
from actionwave.legislators.geocoder import Geocoder
from actionwave.legislators.index import ZipIndex, load_index
from actionwave.legislators.lookup import ZipNotFound, find_legislators
from actionwave.models import Action, Campaign, Supporter, Target


def resolve_action(session: Session, action_id: uuid.UUID,
                   geocoder: Geocoder | None = None, index: ZipIndex | None = None) -> list[Target]:
    """Store the legislators an accepted action goes to, and move it on. Flushes, does not commit:
    the caller commits it together with the action's planned deliveries, so no crash can leave an
    action resolved with nothing planned (a crash before the commit leaves it ``accepted``, and
    the relay's sweep queues it again).

    The supporter's ZIP is narrowed by the district they chose or, through ``geocoder``, by their
    street address. One district: status ``resolved`` with the targets of the campaign's
    chambers (a vacant seat has none). A split ZIP nothing decides, or a ZIP the crosswalk doesn't
    know: ``needs_address``, keeping the senators when the ZIP lies in one state.

    Idempotent: an action past ``accepted`` is left as it is. Returns the action's targets either
    way (empty for an unknown action). Raises ``NoSnapshot`` before the first data sync.
    ``index``: the process's in-memory index of the current snapshot (``Services.legislators``);
    without it the supporter's ZIP is read from the database.
    """
    action = session.get(Action, action_id)
    if action is None:
        return []
    if action.status == "accepted":
        _resolve(session, action, geocoder, index)
    session.flush()
    return list(session.scalars(select(Target).where(Target.action_id == action_id)
                                .order_by(Target.id)))


def _resolve(session: Session, action: Action, geocoder: Geocoder | None,
             index: ZipIndex | None) -> None:
    supporter = session.get_one(Supporter, action.supporter_id)
    chambers = session.scalar(select(Campaign.target_chambers)
                              .where(Campaign.id == action.campaign_id)) or []
    details = action.details or {}
    if index is None:
        index = load_index(session, zips=[supporter.zip])
    try:
        result = find_legislators(
            index, supporter.zip, geocoder=geocoder,
            address=details.get("address") or supporter.address,
            district=details.get("district", supporter.district),
            state=details.get("state") or supporter.state,
        )
    except ZipNotFound:
        _finish(session, action, "needs_address", "zip_not_found", [])
        return
    answer = result.answer
    one_state = len({d["state"] for d in answer["districts"]}) == 1
    people: list[dict[str, Any]] = []
    if "senate" in chambers and one_state:
        people += answer["senators"]
    if "house" in chambers and not answer["ambiguous"]:
        people += [rep for rep in answer["representatives"] if not rep.get("vacant")]
    status = "needs_address" if answer["ambiguous"] else "resolved"
    if not answer["ambiguous"]:
        supporter.district = answer["districts"][0]["district"]
    _finish(session, action, status, result.address_status, people)


def _finish(session: Session, action: Action, status: str, how: str,
            people: list[dict[str, Any]]) -> None:
    if people:
        rows = [{"action_id": action.id, "bioguide_id": p["bioguide_id"], "chamber": p["chamber"],
                 "state": p["state"], "district": p["district"], "name": p["name"],
                 "cwc_office": p["cwc_office"], "info": dict(p)} for p in people]
        insert = dialect_insert(session, Target.__table__).values(rows)
        session.execute(insert.on_conflict_do_nothing(index_elements=["action_id", "bioguide_id"]))
    now = datetime.now(UTC)
    session.execute(
        update(Action).where(Action.id == action.id, Action.status == "accepted").values(
            status=status, updated_at=now, resolved_at=now if status == "resolved" else None,
            details={**(action.details or {}), "resolved_by": how},
        )
    )
