"""The unsubscribe page in a real headless Chromium, on a phone, in both languages: it names the
campaign whose mail the link came from, stops that campaign's mail only, and says so."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from actionwave.core.models import Campaign, CampaignConsent, Supporter
from actionwave.mail.consent import grant_consent
from actionwave.mail.unsubscribe import unsubscribe_url
from actionwave.platform.config import Settings
from actionwave.system.services import Services

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[1] / "instance" / "screenshots"


@pytest.mark.parametrize(("locale", "stop", "done", "everything"), [
    ("en", "Unsubscribe from “Test campaign B (not a real campaign)”",
     "You will get no more updates from “Test campaign B", "Unsubscribe from all mail"),
    ("zh-Hant", "取消訂閱「測試活動乙（並非真實活動）」", "您不會再收到「測試活動乙",
     "取消所有電郵"),
])
def test_a_supporter_stops_one_campaigns_mail_from_the_link_on_a_phone(
        browser, live_server: str, committed_db: Services, settings: Settings,  # type: ignore[no-untyped-def]
        second_campaign: str, locale: str, stop: str, done: str, everything: str) -> None:
    with committed_db.session() as session:
        campaigns = dict(session.execute(select(Campaign.slug, Campaign.id)).all())
        person = Supporter(email=f"phone-{locale}@example.org", first_name="Mei",
                           last_name="Chan", zip="94110", locale=locale)
        session.add(person)
        session.flush()
        for campaign_id in campaigns.values():
            grant_consent(session, person.id, campaign_id, source="form", locale=locale)
        session.commit()
        ident = person.id
    link = unsubscribe_url(settings, ident, campaigns[second_campaign])
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{live_server}{link.removeprefix(settings.public_url)}?lang={locale}")
    page.screenshot(path=str(SCREENSHOTS / f"unsubscribe-{locale}-1-link.png"), full_page=True)
    button = page.get_by_role("button", name=stop)
    assert button.bounding_box()["height"] >= 44  # type: ignore[index]
    expect(page.get_by_role("button", name=everything)).to_be_visible()
    button.click()
    expect(page.locator("#campaign-stopped")).to_contain_text(done)
    page.screenshot(path=str(SCREENSHOTS / f"unsubscribe-{locale}-2-stopped.png"),
                    full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()
    with committed_db.session() as session:
        standing = {c.campaign_id: c.withdrawn_at is None for c in session.scalars(
            select(CampaignConsent).where(CampaignConsent.supporter_id == ident))}
        assert standing == {campaigns[second_campaign]: False,
                            campaigns["hketo-certification-act"]: True}
