"""Planning reminders and sending the due ones.

A reminder becomes a ``deliveries`` row (channel ``reminder_email``, idempotency key
``reminder:<id>``) that the delivery engine sends; the sweep only decides *whether* and *when*:
never to the unsubscribed or suppressed, at most ``cap`` a week per supporter, and never in quiet
hours in the supporter's state (it is moved to the end of them instead).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import exists, func, literal, select
from sqlalchemy.orm import Session

from actionwave.db import dialect_insert, is_postgres
from actionwave.models import Action, Delivery, Reminder, Supporter, Target, UTCDateTime
from actionwave.reminders.zones import zone_for
from actionwave.waves.segment import reachable

ASK_TO_CALL = "ask_to_call"
WRITE_SENATORS = "write_senators"
CALL_AFTER = timedelta(days=3)
CAP_WINDOW = timedelta(days=7)
REMINDER_CHANNEL = "reminder_email"


@dataclass(frozen=True)
class QuietHours:
    start: int = 21  # local hour quiet hours begin
    end: int = 9  # local hour they end

    def next_allowed(self, now: datetime, state: str | None) -> datetime | None:
        """None if ``now`` is outside quiet hours in ``state``, else when they end (UTC)."""
        local = now.astimezone(zone_for(state))
        if self.end <= local.hour < self.start:
            return None
        day = local.date() + timedelta(days=1 if local.hour >= self.start else 0)
        return datetime.combine(day, time(self.end), tzinfo=local.tzinfo).astimezone(UTC)


@dataclass
class SweepResult:
    sent: int = 0
    unsubscribed: int = 0
    capped: int = 0
    deferred: int = 0
    ids: dict[str, list[int]] = field(default_factory=dict)


def plan_call_reminders(session: Session, now: datetime | None = None,
                        lookback: timedelta = timedelta(days=1), limit: int = 5000) -> int:
    """Ask each supporter who wrote in the last ``lookback`` to call, ``CALL_AFTER`` later.

    One per supporter and campaign (the unique key); idempotent. Commits.
    """
    now = now or datetime.now(UTC)
    planned = exists().where(Reminder.supporter_id == Action.supporter_id,
                             Reminder.campaign_id == Action.campaign_id,
                             Reminder.kind == ASK_TO_CALL)
    actions = session.execute(
        select(Action.id, Action.supporter_id, Action.campaign_id, Action.created_at)
        .where(Action.created_at >= now - lookback, ~planned).limit(limit)
    ).all()
    if not actions:
        return 0
    rows = [{"supporter_id": a.supporter_id, "campaign_id": a.campaign_id, "action_id": a.id,
             "kind": ASK_TO_CALL, "key": "", "due_at": a.created_at + CALL_AFTER,
             "created_at": now} for a in actions]
    insert = dialect_insert(session, Reminder.__table__).on_conflict_do_nothing(
        index_elements=["supporter_id", "campaign_id", "kind", "key"])
    count = len(session.execute(insert.returning(Reminder.id), rows).all())
    session.commit()
    return count


def plan_senate_reminders(session: Session, campaign_id: int, transition_id: int,
                          now: datetime | None = None) -> int:
    """When the bill moves, remind supporters who wrote but not to their senators. Idempotent.

    Set-based (``INSERT ... SELECT``); does not commit, so it joins the transition's transaction.
    """
    now = now or datetime.now(UTC)
    wrote = exists().where(Action.supporter_id == Supporter.id, Action.campaign_id == campaign_id)
    wrote_senate = exists().where(Action.supporter_id == Supporter.id,
                                  Action.campaign_id == campaign_id,
                                  Target.action_id == Action.id, Target.chamber == "senate")
    rows = select(Supporter.id, literal(campaign_id), literal(WRITE_SENATORS),
                  literal(f"transition:{transition_id}"), literal(now, UTCDateTime()),
                  literal(now, UTCDateTime())).where(reachable(), wrote, ~wrote_senate)
    insert = dialect_insert(session, Reminder.__table__).from_select(
        ["supporter_id", "campaign_id", "kind", "key", "due_at", "created_at"], rows,
    ).on_conflict_do_nothing(index_elements=["supporter_id", "campaign_id", "kind", "key"])
    return session.execute(insert).rowcount or 0


def sweep_due_reminders(session: Session, *, cap: int, quiet: QuietHours,
                        now: datetime | None = None, limit: int = 500) -> SweepResult:
    """Decide every due reminder (up to ``limit``): send, drop or move it. Commits; idempotent.

    On PostgreSQL concurrent sweeps take disjoint rows (``FOR UPDATE SKIP LOCKED``).
    """
    now = now or datetime.now(UTC)
    query = (select(Reminder, Supporter).join(Supporter, Supporter.id == Reminder.supporter_id)
             .where(Reminder.sent_at.is_(None), Reminder.cancelled_at.is_(None),
                    Reminder.due_at <= now)
             .order_by(Reminder.due_at).limit(limit))
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True, of=Reminder)
    result = SweepResult()
    sent_recently: dict[int, int] = {}
    for reminder, supporter in session.execute(query).all():
        if supporter.unsubscribed_at is not None or supporter.suppressed_reason is not None:
            _close(reminder, now, "unsubscribed", result)
            continue
        if supporter.id not in sent_recently:
            sent_recently[supporter.id] = session.scalar(select(func.count()).where(
                Reminder.supporter_id == supporter.id, Reminder.sent_at >= now - CAP_WINDOW)) or 0
        if sent_recently[supporter.id] >= cap:
            _close(reminder, now, "capped", result)
            continue
        later = quiet.next_allowed(now, supporter.state)
        if later is not None:
            reminder.due_at = later
            result.deferred += 1
            result.ids.setdefault("deferred", []).append(reminder.id)
            continue
        session.execute(dialect_insert(session, Delivery.__table__).values(
            supporter_id=supporter.id, channel=REMINDER_CHANNEL, recipient=supporter.email,
            state="pending", attempts=0, next_attempt_at=now, created_at=now, updated_at=now,
            idempotency_key=f"reminder:{reminder.id}",
            payload={"reminder_id": reminder.id, "kind": reminder.kind,
                     "campaign_id": reminder.campaign_id},
        ).on_conflict_do_nothing(index_elements=["idempotency_key"]))
        reminder.sent_at = now
        reminder.outcome = "sent"
        sent_recently[supporter.id] += 1
        result.sent += 1
        result.ids.setdefault("sent", []).append(reminder.id)
    session.commit()
    return result


def _close(reminder: Reminder, now: datetime, outcome: str, result: SweepResult) -> None:
    reminder.cancelled_at = now
    reminder.outcome = outcome
    setattr(result, outcome, getattr(result, outcome) + 1)
    result.ids.setdefault(outcome, []).append(reminder.id)
