"""The numbers organizers watch: actions over time, by state, the delivery funnel, the queue.

Plain functions over a ``Session``; the console renders what they return. Every number and list
is of one campaign (the queue's depth, shared by all, excepted).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Select, case, func, literal_column, select
from sqlalchemy.orm import Session

from actionwave.bill.models import BillStageTransition
from actionwave.calls.services import count_calls
from actionwave.core.models import Action, Delivery, Supporter
from actionwave.mail.models import MailEvent

FUNNEL = ("accepted", "resolved", "sent", "delivered", "failed", "dead")


@dataclass(frozen=True)
class Bucket:
    start: datetime
    count: int


@dataclass(frozen=True)
class DashboardNumbers:
    """A snapshot for the dashboard. ``queue_depth`` is None when the broker is not Redis."""

    unit: str  # "hour" or "day": the width of each bucket in ``over_time``
    over_time: list[Bucket]
    by_state: list[tuple[str, int]]  # most actions first; "" for supporters without a state
    funnel: dict[str, int]  # keys in FUNNEL order
    in_flight: int  # deliveries pending or sending
    queue_depth: int | None
    taken_at: datetime

    @property
    def peak(self) -> int:
        return max((b.count for b in self.over_time), default=0)


def _truncated(session: Session, column: ColumnElement[datetime], unit: str) -> ColumnElement:
    if session.get_bind().dialect.name == "postgresql":
        return func.date_trunc(unit, func.timezone("UTC", column))
    pattern = "%Y-%m-%d %H:00:00" if unit == "hour" else "%Y-%m-%d 00:00:00"
    return func.strftime(pattern, column)


def _as_utc(value: datetime | str) -> datetime:
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed.replace(tzinfo=UTC)


def actions_over_time(session: Session, campaign_id: int, since: datetime, now: datetime,
                      unit: str) -> list[Bucket]:
    """The campaign's actions per hour or per day from ``since`` to ``now``, empty buckets
    included."""
    step = timedelta(hours=1) if unit == "hour" else timedelta(days=1)
    bucket = _truncated(session, Action.created_at, unit).label("bucket")
    counts = {
        _as_utc(start): count
        for start, count in session.execute(
            select(bucket, func.count())
            .where(Action.campaign_id == campaign_id, Action.created_at >= since)
            .group_by(literal_column("bucket"))
        )
    }
    first = since.replace(minute=0, second=0, microsecond=0)
    if unit == "day":
        first = first.replace(hour=0)
    buckets = []
    start = first
    while start <= now:
        buckets.append(Bucket(start, counts.get(start, 0)))
        start += step
    return buckets


def _count(session: Session, query: Select) -> int:
    return session.scalar(query) or 0


def dashboard_numbers(session: Session, campaign_id: int, *, hours: int = 48,
                      now: datetime | None = None,
                      queue_depth: int | None = None) -> DashboardNumbers:
    """Everything the dashboard shows of one campaign for the last ``hours`` (hourly up to 72 h,
    daily beyond). Read-only; a handful of aggregate queries on indexed columns."""
    now = now or datetime.now(UTC)
    unit = "hour" if hours <= 72 else "day"
    mine = Action.campaign_id == campaign_id
    by_state = session.execute(
        select(func.coalesce(Supporter.state, ""), func.count(Action.id))
        .join(Supporter, Supporter.id == Action.supporter_id).where(mine)
        .group_by(Supporter.state).order_by(func.count(Action.id).desc(), Supporter.state)
    ).all()
    states = {state: count for state, count in session.execute(
        select(Delivery.state, func.count()).where(Delivery.campaign_id == campaign_id)
        .group_by(Delivery.state))}
    its_keys = select(Delivery.idempotency_key).where(Delivery.campaign_id == campaign_id)
    funnel = {
        "accepted": _count(session, select(func.count(Action.id)).where(mine)),
        "resolved": _count(session, select(func.count(Action.id))
                           .where(mine, Action.resolved_at.is_not(None))),
        "sent": states.get("sent", 0),
        "delivered": _count(session, select(func.count(func.distinct(MailEvent.key)))
                            .where(MailEvent.event == "delivered", MailEvent.key.in_(its_keys))),
        "failed": states.get("failed", 0),
        "dead": states.get("dead", 0),
    }
    return DashboardNumbers(
        unit=unit,
        over_time=actions_over_time(session, campaign_id, now - timedelta(hours=hours), now,
                                    unit),
        by_state=[(state, count) for state, count in by_state],
        funnel=funnel,
        in_flight=states.get("pending", 0) + states.get("sending", 0),
        queue_depth=queue_depth,
        taken_at=now,
    )


@dataclass(frozen=True)
class DeliveryFilter:
    """Organizer's filter on the deliveries page; empty strings mean "any"."""

    state: str = ""
    channel: str = ""
    action_status: str = ""


def find_deliveries(session: Session, campaign_id: int, wanted: DeliveryFilter,
                    limit: int = 200) -> list[Delivery]:
    """The campaign's deliveries matching ``wanted``, most recently changed first. Read-only."""
    query = (select(Delivery).where(Delivery.campaign_id == campaign_id)
             .order_by(Delivery.updated_at.desc(), Delivery.id.desc()).limit(limit))
    if wanted.state:
        query = query.where(Delivery.state == wanted.state)
    if wanted.channel:
        query = query.where(Delivery.channel == wanted.channel)
    if wanted.action_status:
        query = query.join(Action, Action.id == Delivery.action_id).where(
            Action.status == wanted.action_status)
    return list(session.scalars(query))


def delivery_channels(session: Session, campaign_id: int) -> list[str]:
    """The channels that have deliveries in the campaign, for the filter's choices."""
    return list(session.scalars(select(Delivery.channel).distinct()
                                .where(Delivery.campaign_id == campaign_id)
                                .order_by(Delivery.channel)))


MESSAGE_KINDS = ("legislators", "supporters", "posts", "calls")


@dataclass(frozen=True)
class KindCounts:
    """Messages of one kind by where they stand. ``kind``: ``legislators`` (supporters' letters
    to offices, by CWC or email), ``supporters`` (confirmations, wave and reminder mails) or
    ``posts`` (the campaign's own announcements on X) or ``calls`` (calls supporters reported
    making to offices; only ``sent`` counts them)."""

    kind: str
    sent: int = 0
    in_flight: int = 0
    failed: int = 0
    dead: int = 0


def messages_by_kind(session: Session, campaign_id: int) -> list[KindCounts]:
    """What the funnel's one "sent" mixes, apart: letters to legislators, mails to supporters,
    and the campaign's posts on X, of one campaign. Read-only; a few aggregate queries."""
    kind = case((Delivery.target_id.is_(None), "supporters"), else_="legislators").label("kind")
    found: dict[str, dict[str, int]] = {k: {} for k in MESSAGE_KINDS}
    for name, state, count in session.execute(
            select(kind, Delivery.state, func.count())
            .where(Delivery.campaign_id == campaign_id)
            .group_by(literal_column("kind"), Delivery.state)):
        found[name][state] = count
    rows = [KindCounts(name, sent=states.get("sent", 0),
                       in_flight=states.get("pending", 0) + states.get("sending", 0),
                       failed=states.get("failed", 0), dead=states.get("dead", 0))
            for name, states in found.items() if name not in ("posts", "calls")]
    posts = BillStageTransition
    announced = select(func.count()).where(posts.campaign_id == campaign_id,
                                            posts.history.is_(False))
    rows.append(KindCounts(
        "posts", sent=_count(session, announced.where(posts.posted_at.is_not(None),
                                                      posts.post_error.is_(None))),
        in_flight=_count(session, announced.where(posts.posted_at.is_(None))),
        dead=_count(session, announced.where(posts.post_error.is_not(None)))))
    # Calls supporters reported making ("I called"): offices weigh them most.
    rows.append(KindCounts("calls", sent=count_calls(session, campaign_id)))
    return rows
