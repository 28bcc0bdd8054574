"""Steps 2 and 3 of the campaign page for looked-up legislators."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from actionwave.campaigns.files import load_campaign
from actionwave.messages.models import TargetAddress
from actionwave.messages.page import page_messages
from actionwave.platform.config import Settings
from tests.conftest import CAMPAIGN_FILE

PEOPLE = [
    {"bioguide_id": "B001288", "name": "Cory A. Booker", "chamber": "senate", "state": "NJ",
     "twitter": "SenBooker", "contact_form": "https://www.booker.senate.gov/contact"},
    {"bioguide_id": "S000522", "name": "Christopher H. Smith", "chamber": "house", "state": "NJ",
     "district": 4, "twitter": "RepChrisSmith", "cwc_office": "HNJ04"},
    {"bioguide_id": "Q000001", "name": "Quiet Member", "chamber": "house", "state": "NJ",
     "district": 5},
    {"chamber": "house", "state": "NJ", "district": 6, "vacant": True},
]


def test_each_legislator_with_a_handle_gets_the_campaign_tweets(db_session: Session,
                                                                settings: Settings) -> None:
    campaign = load_campaign(db_session, CAMPAIGN_FILE)
    page = page_messages(db_session, settings, campaign, PEOPLE, "en")

    assert page is not None
    by_handle = {e.legislator.handle: e.tweets for e in page.tweets.by_legislator}
    assert set(by_handle) == {"SenBooker", "RepChrisSmith"}
    assert len(by_handle["RepChrisSmith"]) == 3
    text = parse_qs(urlsplit(by_handle["SenBooker"][0].url).query)["text"][0]
    assert text.startswith("@SenBooker ") and "H.R. 2661" in text
    assert [p.name for p in page.tweets.without_handle] == ["Quiet Member"]


def test_chinese_page_gets_chinese_tweets(db_session: Session, settings: Settings) -> None:
    campaign = load_campaign(db_session, CAMPAIGN_FILE)
    page = page_messages(db_session, settings, campaign, PEOPLE[:1], "zh-Hant")
    assert page is not None and "香港" in page.tweets.by_legislator[0].tweets[0].text


def test_organizer_address_gives_email_and_compose_links(db_session: Session,
                                                         settings: Settings) -> None:
    campaign = load_campaign(db_session, CAMPAIGN_FILE)
    db_session.add(TargetAddress(campaign_id=campaign.id, bioguide_id="S000522",
                                 email="hfac.staff@example.house.gov", label="committee"))
    db_session.commit()
    page = page_messages(db_session, settings, campaign, PEOPLE, "en")

    assert page is not None
    channels = {c.legislator.bioguide_id: c for c in page.channels}
    assert channels["S000522"].channel == "email"
    body = parse_qs(urlsplit(channels["S000522"].compose.gmail).query)["body"][0]  # type: ignore[union-attr]
    assert body.startswith("Dear Rep. Christopher H. Smith,")
    assert channels["B001288"].channel == "contact_form"
    assert channels["Q000001"].channel == "none"
    assert page.statement.startswith("Dear Sen. Cory A. Booker,")


def test_nobody_looked_up_means_no_steps(db_session: Session, settings: Settings) -> None:
    campaign = load_campaign(db_session, CAMPAIGN_FILE)
    assert page_messages(db_session, settings, campaign, [], "en") is None


def test_campaign_page_invites_a_lookup_before_tweets(client: FlaskClient,
                                                      campaign_slug: str) -> None:
    page = client.get(f"/c/{campaign_slug}")
    assert page.status_code == 200
    assert b'id="tweets"' in page.data and b"Find your legislators in step 1" in page.data


def test_real_lookup_renders_tweet_buttons_and_channels(settings: Settings,
                                                        campaign_slug: str) -> None:
    from dataclasses import replace

    from actionwave.legislators.sources import read_source
    from actionwave.legislators.sync import store_snapshot
    from actionwave.system.services import Services
    from tests.conftest import SHARED_DATA
    from web import create_app

    own = replace(settings, legislators_check_seconds=0)
    services = Services(own)
    try:
        with services.session() as session:
            store_snapshot(session, read_source(str(SHARED_DATA)))
        app = create_app(own, services)
        html = app.test_client().get(f"/c/{campaign_slug}?zip=08701&district=4") \
            .get_data(as_text=True)
    finally:
        services.close()
    assert 'class="button tweet-link"' in html
    assert "https://x.com/intent/tweet?text=%40" in html
    assert 'id="email-plan"' in html and "channel-" in html
