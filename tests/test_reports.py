"""Dashboard numbers computed straight from the tables, without Flask."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from actionwave.mail.models import MailEvent
from actionwave.models import Action, Campaign, Delivery, Supporter
from actionwave.reports import DeliveryFilter, dashboard_numbers, find_deliveries


def seed(session, now: datetime) -> None:  # type: ignore[no-untyped-def]
    campaign = Campaign(slug="r", title="R")
    session.add(campaign)
    session.flush()
    for n, (state, hours_ago) in enumerate([("CA", 0), ("CA", 0), ("NY", 2), ("CA", 5)]):
        supporter = Supporter(email=f"r{n}@example.org", first_name="R", last_name="S",
                              zip="1", state=state)
        session.add(supporter)
        session.flush()
        created = now - timedelta(hours=hours_ago)
        action = Action(campaign_id=campaign.id, supporter_id=supporter.id, idempotency_key=f"r{n}",
                        created_at=created, resolved_at=created if n < 3 else None,
                        status="done" if n < 3 else "accepted")
        session.add(action)
        session.flush()
        session.add(Delivery(action_id=action.id, channel="email" if n else "cwc",
                             state=["sent", "sent", "dead", "pending"][n],
                             idempotency_key=f"d{n}"))
    session.add(MailEvent(sg_event_id="e1", event="delivered", email="x@example.org", key="d1"))
    session.commit()


def test_dashboard_counts_the_funnel_states_and_hours(db_session):
    now = datetime.now(UTC).replace(minute=30)
    seed(db_session, now)
    numbers = dashboard_numbers(db_session, hours=6, now=now)
    assert numbers.funnel == {"accepted": 4, "resolved": 3, "sent": 2, "delivered": 1,
                              "failed": 0, "dead": 1}
    assert numbers.in_flight == 1
    assert numbers.by_state == [("CA", 3), ("NY", 1)]
    counts = {bucket.start: bucket.count for bucket in numbers.over_time}
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    assert counts[this_hour] == 2 and counts[this_hour - timedelta(hours=2)] == 1
    assert counts[this_hour - timedelta(hours=1)] == 0
    assert numbers.peak == 2 and numbers.unit == "hour"


def test_long_windows_are_counted_per_day(db_session):
    now = datetime.now(UTC)
    seed(db_session, now)
    numbers = dashboard_numbers(db_session, hours=168, now=now)
    assert numbers.unit == "day" and sum(b.count for b in numbers.over_time) == 4


def test_deliveries_filter_by_state_channel_and_action_status(db_session):
    seed(db_session, datetime.now(UTC))
    assert [d.idempotency_key for d in find_deliveries(db_session, DeliveryFilter(state="dead"))] \
        == ["d2"]
    assert [d.idempotency_key for d in find_deliveries(db_session,
                                                       DeliveryFilter(channel="cwc"))] == ["d0"]
    pending = find_deliveries(db_session, DeliveryFilter(action_status="accepted"))
    assert [d.idempotency_key for d in pending] == ["d3"]
