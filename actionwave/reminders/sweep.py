"""Planning reminders and sending the due ones.

A reminder becomes a ``deliveries`` row (channel ``reminder_email``, idempotency key
``reminder:<id>``) that the delivery engine sends; the sweep only decides *whether* and *when*.

Planning and the sweep both ask the rule of ``actionwave.mail.audience`` (consented to the
reminder's campaign, not unsubscribed, not suppressed), and both ask that the supporter has a
sitting member of the chamber the reminder is about (``waves.segment.has_legislator``: no Senate
reminder in the District or a territory, no House reminder for a vacant seat). A reminder that
fails either when it falls due is closed with the reason. Beyond that: at most ``cap`` a week per
supporter, and never in quiet hours in any zone the supporter may be in
(``actionwave.reminders.zones``; it is moved to the end of them instead).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, case, exists, func, literal, select
from sqlalchemy.orm import Session

from actionwave.core.models import Action, Delivery, Reminder, Supporter, Target, UTCDateTime
from actionwave.mail.audience import may_mail, refusal
from actionwave.platform.db import dialect_insert, is_postgres
from actionwave.reminders.zones import QuietHours
from actionwave.waves.segment import has_legislator

ASK_TO_CALL = "ask_to_call"
WRITE_SENATORS = "write_senators"
CALL_AFTER = timedelta(days=3)
CAP_WINDOW = timedelta(days=7)
REMINDER_CHANNEL = "reminder_email"


NO_LEGISLATOR = "no_legislator"


def chamber_of(kind: str) -> str:
    """The chamber a reminder of ``kind`` asks about: the Senate to write to one's senators, the
    House for the rest."""
    return "senate" if kind == WRITE_SENATORS else "house"


def _fits(kind: ColumnElement[str]) -> ColumnElement[bool]:
    return case((kind == WRITE_SENATORS, has_legislator("senate")),
                else_=has_legislator("house"))


@dataclass
class SweepResult:
    sent: int = 0
    unsubscribed: int = 0
    suppressed: int = 0
    no_consent: int = 0
    no_legislator: int = 0
    capped: int = 0
    deferred: int = 0
    ids: dict[str, list[int]] = field(default_factory=dict)


def plan_call_reminders(session: Session, now: datetime | None = None,
                        lookback: timedelta = timedelta(days=1), limit: int = 5000) -> int:
    """Ask each supporter who wrote in the last ``lookback`` to call, ``CALL_AFTER`` later: those
    the action's campaign may mail, with a sitting representative (an action not yet resolved is
    looked at again by the next sweep).

    One per supporter and campaign (the unique key); idempotent. Commits.
    """
    now = now or datetime.now(UTC)
    planned = exists().where(Reminder.supporter_id == Action.supporter_id,
                             Reminder.campaign_id == Action.campaign_id,
                             Reminder.kind == ASK_TO_CALL)
    actions = session.execute(
        select(Action.id, Action.supporter_id, Action.campaign_id, Action.created_at)
        .join(Supporter, Supporter.id == Action.supporter_id)
        .where(Action.created_at >= now - lookback, ~planned, may_mail(Action.campaign_id),
               has_legislator(chamber_of(ASK_TO_CALL)))
        .order_by(Action.created_at).limit(limit)
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
    """When the bill moves, remind supporters who wrote but not to their senators (those the
    campaign may mail, in a state with senators). Idempotent.

    Set-based (``INSERT ... SELECT``); does not commit, so it joins the transition's transaction.
    """
    now = now or datetime.now(UTC)
    wrote = exists().where(Action.supporter_id == Supporter.id, Action.campaign_id == campaign_id)
    wrote_senate = exists().where(Action.supporter_id == Supporter.id,
                                  Action.campaign_id == campaign_id,
                                  Target.action_id == Action.id, Target.chamber == "senate")
    rows = select(Supporter.id, literal(campaign_id), literal(WRITE_SENATORS),
                  literal(f"transition:{transition_id}"), literal(now, UTCDateTime()),
                  literal(now, UTCDateTime())).where(
                      may_mail(campaign_id), has_legislator(chamber_of(WRITE_SENATORS)), wrote,
                      ~wrote_senate)
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
    query = (select(Reminder, Supporter, refusal(Reminder.campaign_id), _fits(Reminder.kind))
             .join(Supporter, Supporter.id == Reminder.supporter_id)
             .where(Reminder.sent_at.is_(None), Reminder.cancelled_at.is_(None),
                    Reminder.due_at <= now)
             .order_by(Reminder.due_at).limit(limit))
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True, of=Reminder)
    result = SweepResult()
    sent_recently: dict[int, int] = {}
    for reminder, supporter, refused, fits in session.execute(query).all():
        if refused is not None or not fits:
            _close(reminder, now, refused or NO_LEGISLATOR, result)
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
            supporter_id=supporter.id, campaign_id=reminder.campaign_id,
            channel=REMINDER_CHANNEL, recipient=supporter.email,
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
