"""The signed unsubscribe page and RFC 8058 one-click unsubscribe, scoped to one campaign."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from itsdangerous import URLSafeSerializer
from sqlalchemy import delete, select

from actionwave.core.models import Campaign, CampaignConsent, Reminder, Supporter
from actionwave.mail.consent import grant_consent
from actionwave.mail.unsubscribe import (
    UnsubscribeScope,
    list_unsubscribe_headers,
    read_unsubscribe_token,
    unsubscribe_token,
)
from actionwave.platform.config import Settings
from actionwave.reminders.sweep import ASK_TO_CALL
from actionwave.system.services import Services


@pytest.fixture
def campaigns(services: Services, campaign_slug: str, second_campaign: str) -> dict[str, int]:
    with services.session() as session:
        return {slug: ident for slug, ident in session.execute(select(Campaign.slug, Campaign.id))}


@pytest.fixture
def supporter_id(services: Services, campaigns: dict[str, int]) -> Iterator[int]:
    """A supporter who consented to both campaigns, with a reminder open in each."""
    with services.session() as session:
        person = Supporter(email="unsub@example.com", first_name="Ann", last_name="Lee",
                           zip="10001")
        session.add(person)
        session.flush()
        for campaign_id in campaigns.values():
            grant_consent(session, person.id, campaign_id, source="form")
            session.add(Reminder(supporter_id=person.id, campaign_id=campaign_id,
                                 kind=ASK_TO_CALL, due_at=person.created_at))
        session.commit()
        ident = person.id
    yield ident
    with services.session() as session:
        session.execute(delete(Supporter).where(Supporter.id == ident))
        session.commit()


def state(services: Services, ident: int) -> tuple[bool, dict[int, bool], dict[int, bool]]:
    """(stopped all mail, consent standing by campaign, reminder open by campaign)."""
    with services.session() as session:
        person = session.get(Supporter, ident)
        consents = {c.campaign_id: c.withdrawn_at is None for c in session.scalars(
            select(CampaignConsent).where(CampaignConsent.supporter_id == ident))}
        reminders = {r.campaign_id: r.cancelled_at is None for r in session.scalars(
            select(Reminder).where(Reminder.supporter_id == ident))}
        return person is not None and person.unsubscribed_at is not None, consents, reminders


def test_tokens_round_trip_and_forgeries_fail(settings: Settings) -> None:
    token = unsubscribe_token(settings, 42, 7)
    assert read_unsubscribe_token(settings, token) == UnsubscribeScope(42, 7)
    assert read_unsubscribe_token(settings, token[:-2] + "xx") is None
    other = URLSafeSerializer(settings.secret_key, salt="actionwave.unsubscribe")
    assert read_unsubscribe_token(settings, other.dumps({"id": 42})) is None


@pytest.mark.parametrize("ident", [1, 42, 99_999, 1_000_000, 123_456_789, 999_999_999_999])
def test_links_already_sent_in_mails_still_work_and_stop_all_mail(settings: Settings,
                                                                  ident: int) -> None:
    # Made by itsdangerous's own serializer, as before its compression step was skipped.
    sent = URLSafeSerializer(settings.secret_key, salt="actionwave.unsubscribe").dumps(ident)
    assert unsubscribe_token(settings, ident, None) == sent
    assert read_unsubscribe_token(settings, sent) == UnsubscribeScope(ident, None)


def test_page_names_the_campaign_without_unsubscribing(client: FlaskClient, settings: Settings,
                                                       services: Services, supporter_id: int,
                                                       campaigns: dict[str, int]) -> None:
    campaign_id = campaigns["test-second-campaign"]
    page = client.get(f"/u/{unsubscribe_token(settings, supporter_id, campaign_id)}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "unsub@example.com" in text
    assert "Unsubscribe from “Test campaign B (not a real campaign)”" in text
    assert "Unsubscribe from all mail" in text
    assert state(services, supporter_id) == (False, dict.fromkeys(campaigns.values(), True),
                                             dict.fromkeys(campaigns.values(), True))


def test_button_stops_that_campaigns_mail_only(client: FlaskClient, settings: Settings,
                                               services: Services, supporter_id: int,
                                               campaigns: dict[str, int]) -> None:
    stopped, kept = campaigns["test-second-campaign"], campaigns["hketo-certification-act"]
    page = client.post(f"/u/{unsubscribe_token(settings, supporter_id, stopped)}")
    assert page.status_code == 200 and b'id="campaign-stopped"' in page.data
    assert b'id="unsubscribed"' not in page.data
    assert state(services, supporter_id) == (False, {stopped: False, kept: True},
                                             {stopped: False, kept: True})


def test_one_click_post_from_the_header_stops_that_campaigns_mail(
        client: FlaskClient, settings: Settings, services: Services, supporter_id: int,
        campaigns: dict[str, int]) -> None:
    stopped, kept = campaigns["hketo-certification-act"], campaigns["test-second-campaign"]
    header = list_unsubscribe_headers(settings, supporter_id, stopped)["List-Unsubscribe"]
    url = header.split(", ")[0].strip("<>").removeprefix(settings.public_url)
    answer = client.post(url, data="List-Unsubscribe=One-Click",
                         content_type="application/x-www-form-urlencoded")
    assert answer.status_code == 200
    assert state(services, supporter_id) == (False, {stopped: False, kept: True},
                                             {stopped: False, kept: True})
    assert client.post(url, data="List-Unsubscribe=One-Click").status_code == 200  # idempotent


def test_stopping_all_mail_withdraws_every_consent(client: FlaskClient, settings: Settings,
                                                   services: Services, supporter_id: int,
                                                   campaigns: dict[str, int]) -> None:
    token = unsubscribe_token(settings, supporter_id, campaigns["hketo-certification-act"])
    page = client.post(f"/u/{token}", data={"scope": "all"})
    assert page.status_code == 200 and b'id="unsubscribed"' in page.data
    assert state(services, supporter_id) == (True, dict.fromkeys(campaigns.values(), False),
                                             dict.fromkeys(campaigns.values(), False))


def test_an_old_link_stops_all_mail_as_it_said(client: FlaskClient, settings: Settings,
                                               services: Services, supporter_id: int) -> None:
    page = client.post(f"/u/{unsubscribe_token(settings, supporter_id, None)}")
    assert page.status_code == 200 and b'id="unsubscribed"' in page.data
    assert state(services, supporter_id)[0]


def test_forged_token_is_not_found(client: FlaskClient, supporter_id: int) -> None:
    assert client.get("/u/not-a-token").status_code == 404
    assert client.post("/u/not-a-token").status_code == 404


def test_page_in_traditional_chinese(client: FlaskClient, settings: Settings, supporter_id: int,
                                     campaigns: dict[str, int]) -> None:
    token = unsubscribe_token(settings, supporter_id, campaigns["hketo-certification-act"])
    page = client.get(f"/u/{token}?lang=zh-Hant").get_data(as_text=True)
    assert "取消所有電郵" in page and "取消訂閱「支持《香港經濟貿易辦事處認證法案》」" in page
