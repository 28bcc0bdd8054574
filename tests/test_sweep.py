"""Reminders: planned as rows, swept when due; consent, cap, quiet hours and legislators respected.

Who may get one is tested on both stores in ``test_audience.py``; quiet hours' zones in
``test_zones.py``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from actionwave.core.models import Action, Campaign, Delivery, Reminder, Supporter
from actionwave.mail.consent import grant_consent
from actionwave.reminders.sweep import (
    ASK_TO_CALL,
    CALL_AFTER,
    plan_call_reminders,
    sweep_due_reminders,
)
from actionwave.reminders.zones import QuietHours

# 18:00 UTC is 10:00 in California and 14:00 in New York: outside quiet hours for both.
DAYTIME = datetime(2030, 3, 5, 18, tzinfo=UTC)
QUIET = QuietHours(21, 9)


def supporter(session: Session, campaign: int, state: str = "CA", district: int = 11,
              **fields: object) -> Supporter:
    """A supporter who consented to ``campaign``, in a district with a sitting representative."""
    person = Supporter(email=f"{uuid.uuid4().hex}@example.org", first_name="A", last_name="B",
                       state=state, district=district, zip="94110", **fields)
    session.add(person)
    session.flush()
    grant_consent(session, person.id, campaign, source="import")
    return person


def reminder(session: Session, person: Supporter, campaign_id: int, due_at: datetime,
             key: str = "") -> Reminder:
    row = Reminder(supporter_id=person.id, campaign_id=campaign_id, kind=ASK_TO_CALL, key=key,
                   due_at=due_at)
    session.add(row)
    session.flush()
    return row


def campaign_id(session: Session, slug: str) -> int:
    return session.scalar(select(Campaign.id).where(Campaign.slug == slug))  # type: ignore[return-value]


def sweep(session: Session, now: datetime = DAYTIME, cap: int = 2):  # type: ignore[no-untyped-def]
    return sweep_due_reminders(session, cap=cap, quiet=QUIET, now=now)


def test_due_reminder_becomes_one_delivery(db_session: Session, campaign_slug: str) -> None:
    cid = campaign_id(db_session, campaign_slug)
    row = reminder(db_session, supporter(db_session, cid), cid, DAYTIME - timedelta(minutes=1))
    assert sweep(db_session).sent == 1
    assert sweep(db_session).sent == 0  # a second sweep finds nothing to do
    deliveries = db_session.scalars(select(Delivery).where(
        Delivery.idempotency_key == f"reminder:{row.id}")).all()
    assert len(deliveries) == 1 and deliveries[0].channel == "reminder_email"
    assert deliveries[0].campaign_id == cid
    assert row.outcome == "sent"


def test_not_yet_due_reminder_waits(db_session: Session, campaign_slug: str) -> None:
    cid = campaign_id(db_session, campaign_slug)
    row = reminder(db_session, supporter(db_session, cid), cid, DAYTIME + timedelta(minutes=1))
    assert sweep(db_session).ids == {}
    assert row.sent_at is None and row.cancelled_at is None


def test_unsubscribed_supporter_gets_no_reminder(db_session: Session, campaign_slug: str) -> None:
    cid = campaign_id(db_session, campaign_slug)
    person = supporter(db_session, cid, unsubscribed_at=DAYTIME - timedelta(days=1))
    row = reminder(db_session, person, cid, DAYTIME)
    assert sweep(db_session).unsubscribed == 1
    assert row.outcome == "unsubscribed" and row.sent_at is None


def test_cap_limits_reminders_per_supporter_per_week(db_session: Session,
                                                     campaign_slug: str) -> None:
    cid = campaign_id(db_session, campaign_slug)
    person = supporter(db_session, cid)
    rows = [reminder(db_session, person, cid, DAYTIME, str(i)) for i in range(3)]
    result = sweep(db_session, cap=2)
    assert (result.sent, result.capped) == (2, 1)
    assert sorted(r.outcome or "" for r in rows) == ["capped", "sent", "sent"]


def test_quiet_hours_move_the_reminder_to_morning_in_the_supporters_state(
    db_session: Session, campaign_slug: str,
) -> None:
    # 05:00 UTC: 21:00 in California (quiet), 00:00 in New York (quiet), 19:00 in Hawaii.
    now = datetime(2030, 3, 5, 5, tzinfo=UTC)
    cid = campaign_id(db_session, campaign_slug)
    west = reminder(db_session, supporter(db_session, cid, "CA"), cid, now)
    hawaii = reminder(db_session, supporter(db_session, cid, "HI", district=1), cid, now)
    result = sweep(db_session, now=now)
    assert (result.sent, result.deferred) == (1, 1)
    assert hawaii.sent_at == now
    # 09:00 Pacific standard time on March 5 is 17:00 UTC.
    assert west.sent_at is None and west.due_at == datetime(2030, 3, 5, 17, tzinfo=UTC)
    assert sweep(db_session, now=west.due_at).sent == 1


def test_writers_are_asked_to_call_three_days_later_once(db_session: Session,
                                                         campaign_slug: str) -> None:
    cid = campaign_id(db_session, campaign_slug)
    person = supporter(db_session, cid)
    action = Action(campaign_id=cid, supporter_id=person.id,
                    idempotency_key=uuid.uuid4().hex, created_at=DAYTIME)
    db_session.add(action)
    db_session.flush()
    assert plan_call_reminders(db_session, now=DAYTIME + timedelta(hours=1)) == 1
    assert plan_call_reminders(db_session, now=DAYTIME + timedelta(hours=2)) == 0
    row = db_session.scalar(select(Reminder).where(Reminder.supporter_id == person.id))
    assert row is not None and row.due_at == DAYTIME + CALL_AFTER
