"""Who a wave reaches: a segment of supporters, as one SQL query (never a list in memory).

A segment never leaves its campaign: it starts from the supporters the campaign may mail
(``actionwave.mail.audience``: consented to that campaign, not unsubscribed, not suppressed).
A chamber keeps only supporters who have a sitting member of it (``has_legislator``), the same
test reminders pass.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select, true

from actionwave.core.models import LOCALES, Action, Supporter, Target
from actionwave.legislators.models import CurrentSnapshot, Legislator
from actionwave.legislators.sync import CURRENT_ROW
from actionwave.mail.audience import may_mail

CHAMBERS = ("house", "senate")
_DISTRICT = re.compile(r"^([A-Z]{2})-(\d{1,2})$")


class SegmentError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Segment:
    """Filters that all apply (AND). Empty filters select every supporter the campaign may mail.

    ``acted`` with ``since``: supporters who did (True) or did not (False) act on the campaign
    since that time, counting only actions that reached ``chamber`` when a chamber is given.
    """

    states: tuple[str, ...] = ()
    districts: tuple[str, ...] = ()  # "CA-12"
    chamber: str | None = None
    locale: str | None = None
    acted: bool | None = None
    since: datetime | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Segment:
        """Validate an organizer's segment; raises ``SegmentError`` naming the bad field."""
        if not isinstance(data, dict):
            raise SegmentError("segment", "expected an object")
        unknown = set(data) - {"states", "districts", "chamber", "locale", "acted", "since"}
        if unknown:
            raise SegmentError(f"segment.{sorted(unknown)[0]}", "unknown filter")
        for name in ("states", "districts"):
            listed = data.get(name)
            if listed is not None and (not isinstance(listed, list)
                                       or not all(isinstance(v, str) for v in listed)):
                raise SegmentError(f"segment.{name}", "a list of strings")
        states = tuple(str(s).upper() for s in data.get("states") or ())
        if any(not re.fullmatch(r"[A-Z]{2}", s) for s in states):
            raise SegmentError("segment.states", "use two-letter state codes")
        districts = tuple(str(d).upper() for d in data.get("districts") or ())
        if any(not _DISTRICT.match(d) for d in districts):
            raise SegmentError("segment.districts", "use STATE-NUMBER, e.g. CA-12")
        chamber = data.get("chamber")
        if chamber is not None and (not isinstance(chamber, str) or chamber not in CHAMBERS):
            raise SegmentError("segment.chamber", "house or senate")
        locale = data.get("locale")
        if locale is not None and (not isinstance(locale, str) or locale not in LOCALES):
            raise SegmentError("segment.locale", f"one of {', '.join(LOCALES)}")
        acted = data.get("acted")
        if acted is not None and not isinstance(acted, bool):
            raise SegmentError("segment.acted", "true or false")
        since = None
        if data.get("since") is not None and not isinstance(data["since"], str):
            raise SegmentError("segment.since", "an ISO 8601 date-time string")
        if data.get("since"):
            try:
                since = datetime.fromisoformat(str(data["since"]))
            except ValueError as exc:
                raise SegmentError("segment.since", "an ISO 8601 date-time") from exc
            if since.tzinfo is None:
                raise SegmentError("segment.since", "include a time zone, e.g. Z")
        if acted is not None and since is None:
            raise SegmentError("segment.since", "required with acted")
        return cls(states, districts, chamber, locale, acted, since)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["states"], data["districts"] = list(self.states), list(self.districts)
        data["since"] = self.since.isoformat() if self.since else None
        return {key: value for key, value in data.items() if value not in (None, [])}


def has_legislator(chamber: str) -> ColumnElement[bool]:
    """WHERE clause on ``supporters``: those with a sitting member of ``chamber`` in the current
    legislator snapshot. Senate: a known state that has senators (not the District or a
    territory, whose delegates sit in the House only). House: a known district whose seat is
    filled (not vacant). A supporter whose state or district is unknown has none.
    """
    current = (select(CurrentSnapshot.snapshot_id).where(CurrentSnapshot.id == CURRENT_ROW)
               .scalar_subquery())
    members = exists().where(Legislator.snapshot_id == current, Legislator.chamber == chamber,
                             Legislator.state == Supporter.state)
    if chamber == "house":
        members = members.where(Legislator.district == Supporter.district)
    return members


def segment_filter(segment: Segment, campaign_id: int) -> ColumnElement[bool]:
    """The WHERE clause on ``supporters`` for ``segment`` in ``campaign_id``."""
    clauses: list[ColumnElement[bool]] = [may_mail(campaign_id)]
    if segment.states:
        clauses.append(Supporter.state.in_(segment.states))
    if segment.districts:
        pairs = [_DISTRICT.match(d).groups() for d in segment.districts]  # type: ignore[union-attr]
        clauses.append(or_(*(and_(Supporter.state == st, Supporter.district == int(num))
                             for st, num in pairs)))
    if segment.chamber:
        clauses.append(has_legislator(segment.chamber))
    if segment.locale:
        clauses.append(Supporter.locale == segment.locale)
    if segment.acted is not None:
        acted = _acted_since(segment, campaign_id)
        clauses.append(acted if segment.acted else ~acted)
    return and_(true(), *clauses)


def _acted_since(segment: Segment, campaign_id: int) -> ColumnElement[bool]:
    query = select(Action.id).where(
        Action.supporter_id == Supporter.id, Action.campaign_id == campaign_id,
        Action.created_at >= segment.since,
    )
    if segment.chamber:
        query = query.where(exists().where(Target.action_id == Action.id,
                                           Target.chamber == segment.chamber))
    return exists(query)


def segment_count(segment: Segment, campaign_id: int) -> Select[tuple[int]]:
    """How many supporters the segment holds right now (for previews and ``lost`` checks)."""
    return select(func.count()).select_from(Supporter).where(segment_filter(segment, campaign_id))
