"""Dashboard numbers computed straight from the tables, without Flask: each campaign's own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from actionwave.campaigns.reports import (
    DeliveryFilter,
    dashboard_numbers,
    delivery_channels,
    find_deliveries,
)
from actionwave.core.models import Action, Campaign, Delivery, Supporter
from actionwave.mail.models import MailEvent


def seed(session, now: datetime) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Campaign R (four actions) and campaign O beside it, sharing R's first supporter."""
    campaign = Campaign(slug="r", title="R")
    other = Campaign(slug="o", title="O")
    session.add_all([campaign, other])
    session.flush()
    supporters = []
    for n, (state, hours_ago) in enumerate([("CA", 0), ("CA", 0), ("NY", 2), ("CA", 5)]):
        supporter = Supporter(email=f"r{n}@example.org", first_name="R", last_name="S",
                              zip="1", state=state)
        session.add(supporter)
        session.flush()
        supporters.append(supporter)
        created = now - timedelta(hours=hours_ago)
        action = Action(campaign_id=campaign.id, supporter_id=supporter.id, idempotency_key=f"r{n}",
                        created_at=created, resolved_at=created if n < 3 else None,
                        status="done" if n < 3 else "accepted")
        session.add(action)
        session.flush()
        session.add(Delivery(action_id=action.id, campaign_id=campaign.id,
                             channel="email" if n else "cwc",
                             state=["sent", "sent", "dead", "pending"][n],
                             idempotency_key=f"d{n}"))
    texan = Supporter(email="o@example.org", first_name="O", last_name="T", zip="1", state="TX")
    session.add(texan)
    session.flush()
    for n, person in enumerate([supporters[0], texan]):
        action = Action(campaign_id=other.id, supporter_id=person.id, idempotency_key=f"o{n}",
                        created_at=now, resolved_at=now, status="done")
        session.add(action)
        session.flush()
        session.add(Delivery(action_id=action.id, campaign_id=other.id, channel="cwc",
                             state=["sent", "dead"][n], idempotency_key=f"od{n}"))
    session.add(MailEvent(sg_event_id="e1", event="delivered", email="x@example.org", key="d1"))
    session.add(MailEvent(sg_event_id="e2", event="delivered", email="o@example.org", key="od0"))
    session.commit()
    return campaign.id, other.id


def test_dashboard_counts_the_funnel_states_and_hours(db_session):
    now = datetime.now(UTC).replace(minute=30)
    campaign, other = seed(db_session, now)
    numbers = dashboard_numbers(db_session, campaign, hours=6, now=now)
    assert numbers.funnel == {"accepted": 4, "resolved": 3, "sent": 2, "delivered": 1,
                              "failed": 0, "dead": 1}
    assert numbers.in_flight == 1
    assert numbers.by_state == [("CA", 3), ("NY", 1)]
    counts = {bucket.start: bucket.count for bucket in numbers.over_time}
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    assert counts[this_hour] == 2 and counts[this_hour - timedelta(hours=2)] == 1
    assert counts[this_hour - timedelta(hours=1)] == 0
    assert numbers.peak == 2 and numbers.unit == "hour"
    theirs = dashboard_numbers(db_session, other, hours=6, now=now)
    assert theirs.funnel == {"accepted": 2, "resolved": 2, "sent": 1, "delivered": 1,
                             "failed": 0, "dead": 1}
    assert theirs.by_state == [("CA", 1), ("TX", 1)] and theirs.in_flight == 0


def test_long_windows_are_counted_per_day(db_session):
    now = datetime.now(UTC)
    campaign, _other = seed(db_session, now)
    numbers = dashboard_numbers(db_session, campaign, hours=168, now=now)
    assert numbers.unit == "day" and sum(b.count for b in numbers.over_time) == 4


def test_deliveries_filter_by_state_channel_and_action_status(db_session):
    campaign, other = seed(db_session, datetime.now(UTC))

    def keys(wanted: DeliveryFilter, campaign_id: int = campaign) -> list[str]:
        return [d.idempotency_key for d in find_deliveries(db_session, campaign_id, wanted)]

    assert keys(DeliveryFilter(state="dead")) == ["d2"]
    assert keys(DeliveryFilter(channel="cwc")) == ["d0"]
    assert keys(DeliveryFilter(action_status="accepted")) == ["d3"]
    assert keys(DeliveryFilter(state="dead"), other) == ["od1"]
    assert delivery_channels(db_session, other) == ["cwc"]
