"""The funnel by kind, on PostgreSQL and SQLite: letters to legislators, mails to supporters and
the campaign's posts on X are counted apart, and the dashboard shows them."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import select

from actionwave.bill.models import BillStageTransition
from actionwave.calls.services import record_call
from actionwave.campaigns.reports import KindCounts, messages_by_kind
from actionwave.core.models import Action, Campaign, Delivery, Supporter, Target
from actionwave.system.services import Services
from tests.organizer_support import sqlite_services, store, store_app  # noqa: F401 (fixtures)
from tests.test_console import sign_in


def add_messages(services: Services) -> None:
    """Letters: 2 sent, 1 pending, 1 dead. Supporters: 3 sent confirmations/waves, 1 failed.
    Posts: one on X, one refused, one waiting, one history (never announced)."""
    with services.session() as session:
        campaign_id = session.scalar(select(Campaign.id))
        supporter = Supporter(email="k@example.org", first_name="K", last_name="L", zip="08701")
        session.add(supporter)
        session.flush()
        action = Action(campaign_id=campaign_id, supporter_id=supporter.id, status="done",
                        idempotency_key="kinds")
        session.add(action)
        session.flush()
        target = Target(action_id=action.id, bioguide_id="S000522", chamber="house", state="NJ",
                        name="Smith")
        session.add(target)
        session.flush()
        for state in ("sent", "sent", "pending", "dead"):
            session.add(Delivery(action_id=action.id, target_id=target.id, channel="cwc",
                                 campaign_id=campaign_id,
                                 state=state, idempotency_key=uuid.uuid4().hex))
        for channel, state in (("email", "sent"), ("wave_email", "sent"),
                               ("reminder_email", "sent"), ("wave_email", "failed")):
            session.add(Delivery(supporter_id=supporter.id, channel=channel, state=state,
                                 campaign_id=campaign_id,
                                 idempotency_key=uuid.uuid4().hex))
        now = datetime.now(UTC)
        for stage, posted, error, history in (("introduced", now, None, True),
                                              ("in_committee", now, None, False),
                                              ("passed_house", now, "X refused", False),
                                              ("passed_senate", None, None, False)):
            session.add(BillStageTransition(campaign_id=campaign_id, stage=stage,
                                            action_date=date(2026, 1, 1), action_text=stage,
                                            posted_at=posted, post_error=error, history=history))
        session.commit()
        # One call reported, twice ("I called" pressed again): one call.
        assert record_call(session, action.id, "S000522", {"S000522"}) is True
        assert record_call(session, action.id, "S000522", {"S000522"}) is False


def test_letters_supporter_mails_and_posts_are_counted_apart(store: Services):  # noqa: F811
    add_messages(store)
    with store.session() as session:
        kinds = messages_by_kind(session, session.scalar(select(Campaign.id)))
    assert kinds == [KindCounts("legislators", sent=2, in_flight=1, dead=1),
                     KindCounts("supporters", sent=3, failed=1),
                     KindCounts("posts", sent=1, in_flight=1, dead=1),
                     KindCounts("calls", sent=1)]


def test_the_dashboard_shows_messages_by_kind(store: Services):  # noqa: F811
    add_messages(store)
    client = store_app(store).test_client()
    sign_in(client, "viewer")
    page = client.get("/console/").get_data(as_text=True)
    assert ('<tr id="kind-legislators"><th scope="row">Letters to legislators (CWC, email)</th>'
            '\n        <td class="n">2</td><td class="n">1</td><td class="n">0</td>'
            '<td class="n">1</td></tr>') in page
    assert "Mails to supporters (confirmations, waves, reminders)" in page
    assert "(written to instance/posts/: no X credentials)" in page
    assert "sent (all kinds)" in page
    assert ('<tr id="kind-calls"><th scope="row">Calls supporters made to offices</th>'
            '\n        <td class="n">1</td>') in page
    chinese = client.get("/console/?lang=zh-Hant").get_data(as_text=True)
    assert "寄給議員的信（CWC、電郵）" in chinese
