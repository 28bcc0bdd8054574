"""Finding: unsubscribe tokens never expired, so a link that leaked once could change a
supporter's mail forever. Links now work for a year; an older one changes nothing, shows no
address, and offers to mail a fresh link to the supporter's own address."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from actionwave.core.models import Campaign, CampaignConsent, Delivery, Supporter
from actionwave.mail.consent import grant_consent
from actionwave.mail.unsubscribe import SALT, unsubscribe_token
from tests.organizer_support import sqlite_services, store, store_app  # noqa: F401

SLUG = "hketo-certification-act"


def _supporter(services) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with services.session() as session:
        campaign_id = session.scalar(select(Campaign.id).where(Campaign.slug == SLUG))
        supporter = Supporter(email="mei@example.org", first_name="Mei", last_name="Chan",
                              zip="82001", state="WY", locale="en")
        session.add(supporter)
        session.flush()
        grant_consent(session, supporter.id, campaign_id, source="import")
        session.commit()
        return supporter.id, campaign_id


def test_a_link_older_than_a_year_changes_nothing_and_offers_a_fresh_one(store):  # noqa: F811
    supporter_id, campaign_id = _supporter(store)
    client = store_app(store).test_client()
    today = datetime.now(UTC).date()
    fresh = unsubscribe_token(store.settings, supporter_id, campaign_id, today - timedelta(364))
    assert "mei@example.org" in client.get(f"/u/{fresh}").get_data(as_text=True)
    old = unsubscribe_token(store.settings, supporter_id, campaign_id, today - timedelta(366))
    page = client.get(f"/u/{old}").get_data(as_text=True)
    assert "more than a year old" in page and "mei@example.org" not in page
    client.post(f"/u/{old}")  # a mail client's one-click
    with store.session() as session:
        assert session.scalar(select(CampaignConsent.withdrawn_at)) is None
    sent = client.post(f"/u/{old}/fresh-link").get_data(as_text=True)
    assert "new link is on its way" in sent
    client.post(f"/u/{old}/fresh-link")  # asked twice: one mail
    with store.session() as session:
        mails = session.scalars(select(Delivery).where(Delivery.channel == "email")).all()
    assert [m.recipient for m in mails] == ["mei@example.org"]
    link = re.search(r"/u/([^\s]+)", mails[0].payload["mail"]["text"]).group(1)
    assert "mei@example.org" in client.get(f"/u/{link}").get_data(as_text=True)


def test_links_made_before_links_carried_their_day_still_work(store):  # noqa: F811
    supporter_id, campaign_id = _supporter(store)
    legacy = URLSafeSerializer(store.settings.secret_key, salt=SALT).dumps(
        [supporter_id, campaign_id])
    page = store_app(store).test_client().get(f"/u/{legacy}").get_data(as_text=True)
    assert "mei@example.org" in page
