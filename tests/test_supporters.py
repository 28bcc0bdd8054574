"""Supporter search, export and erasure on request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from actionwave.campaigns.supporters import (
    NoSuchSupporter,
    erase_supporter,
    export_csv,
    search_supporters,
)
from actionwave.core.models import Action, Campaign, CampaignConsent, Delivery, Reminder, Supporter
from actionwave.mail.consent import grant_consent
from actionwave.mail.models import MailEvent


@pytest.fixture
def mei(db_session) -> Supporter:  # type: ignore[no-untyped-def]
    campaign = Campaign(slug="s", title="S")
    supporter = Supporter(email="mei@example.org", first_name="Mei", last_name="Chan",
                          address="1 Main St", city="Cheyenne", zip="82001", state="WY")
    db_session.add_all([campaign, supporter])
    db_session.flush()
    action = Action(campaign_id=campaign.id, supporter_id=supporter.id, idempotency_key="m1",
                    message="Please cosponsor", details={"address": "1 Main St"}, ip_hash="abc")
    db_session.add(action)
    db_session.flush()
    grant_consent(db_session, supporter.id, campaign.id, source="form")
    db_session.add_all([
        Delivery(action_id=action.id, channel="cwc", state="sent", recipient="WY00",
                 payload={"name": "Mei Chan"}, idempotency_key="m-sent"),
        Delivery(action_id=action.id, channel="email", state="pending",
                 recipient="office@example.org", idempotency_key="m-pending"),
        Delivery(supporter_id=supporter.id, channel="email", state="dead",
                 recipient="mei@example.org", idempotency_key="m-dead"),
        Reminder(supporter_id=supporter.id, campaign_id=campaign.id, kind="follow_up",
                 due_at=datetime.now(UTC) + timedelta(days=1)),
        MailEvent(sg_event_id="ev1", event="delivered", email="mei@example.org", key="m-sent"),
    ])
    db_session.commit()
    return supporter


def test_search_finds_by_email_name_and_zip(db_session, mei):
    campaign_id = db_session.scalar(select(Campaign.id).where(Campaign.slug == "s"))
    for text in ("MEI@", "mei chan", "8200"):
        assert [s.id for s in search_supporters(db_session, campaign_id, text)] == [mei.id]
    assert search_supporters(db_session, campaign_id, "nobody") == []


def test_search_lists_only_the_campaigns_own_supporters(db_session, mei):
    other = Campaign(slug="other", title="Other")
    kai = Supporter(email="kai@example.org", first_name="Kai", last_name="Lee", zip="10001")
    ann = Supporter(email="ann@example.org", first_name="Ann", last_name="Wu", zip="10001")
    db_session.add_all([other, kai, ann])
    db_session.flush()
    db_session.add(Action(campaign_id=other.id, supporter_id=kai.id, idempotency_key="k1"))
    grant_consent(db_session, ann.id, other.id, source="import")  # consented, no action yet
    db_session.commit()
    assert {s.email for s in search_supporters(db_session, other.id, "")} == {
        "kai@example.org", "ann@example.org"}
    mine = db_session.scalar(select(Campaign.id).where(Campaign.slug == "s"))
    assert [s.email for s in search_supporters(db_session, mine, "")] == ["mei@example.org"]


def test_export_streams_csv_and_defuses_formulas(db_session, mei):
    mei.last_name = "=HYPERLINK()"
    db_session.commit()
    campaign_id = db_session.scalar(select(Action.campaign_id).where(
        Action.supporter_id == mei.id))
    text = "".join(export_csv(db_session, campaign_id, batch=1))
    lines = text.strip().splitlines()
    assert lines[0].startswith("\ufeffid,email,first_name")
    assert lines[0].endswith(",consent,consent_given_at")
    assert "mei@example.org,Mei,'=HYPERLINK()" in lines[1]


def test_erasure_removes_personal_data_and_keeps_the_counts(db_session, mei):
    erase_supporter(db_session, mei.id)
    erase_supporter(db_session, mei.id)  # idempotent
    db_session.expire_all()
    erased = db_session.get(Supporter, mei.id)
    assert erased.email == f"erased-{mei.id}@erased.invalid"
    assert (erased.first_name, erased.last_name, erased.address, erased.zip) == ("", "", None, "")
    assert erased.state == "WY"  # coarse enough to keep the per-state count
    action = db_session.scalar(select(Action).where(Action.supporter_id == mei.id))
    assert (action.message, action.details, action.ip_hash) == (None, {}, None)
    deliveries = db_session.scalars(select(Delivery)).all()
    assert [(d.state, d.recipient, d.payload) for d in deliveries] == [("sent", None, {})]
    assert db_session.scalar(select(func.count()).select_from(Action)) == 1
    assert db_session.scalar(select(Reminder.outcome)) == "erased"
    assert db_session.scalar(select(MailEvent.email)) == erased.email
    assert search_supporters(db_session, action.campaign_id, "") == []
    assert db_session.scalar(select(CampaignConsent.withdrawn_via)) == "erased"
    assert "erased" not in "".join(export_csv(db_session, action.campaign_id))


def test_erasing_an_unknown_supporter_says_so(db_session):
    with pytest.raises(NoSuchSupporter):
        erase_supporter(db_session, 999_999)
