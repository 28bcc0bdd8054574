"""The bill watcher in a real headless Chromium: the stale banner leads to the bill page, which
says what failed and what to do; a stage wave says what it waits for. Screenshots are written to
instance/screenshots/console-bill-*.png and console-waves-waiting-*.png for a person to look at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from actionwave.accounts.services import create_user
from actionwave.bill.budget import RequestBudget
from actionwave.bill.congress_api import CongressGovClient
from actionwave.bill.models import BillPoll
from actionwave.bill.watcher import poll_campaign_bill
from actionwave.core.models import Campaign
from actionwave.waves.launch import create_wave
from tests.conftest import ROOT
from tests.stubs.congress import API_KEY, BillReplay, CongressStub, running

pytestmark = pytest.mark.browser

SCREENSHOTS = ROOT / "instance" / "screenshots"
PASSWORD = "correct horse battery"
SIZES = {"phone": (390, 844), "desktop": (1366, 900)}


@pytest.fixture
def refused_key(committed_db, campaign_slug: str):  # type: ignore[no-untyped-def]
    """One good poll seven hours ago, then congress.gov refusing the key; a stage wave waits."""
    with running(CongressStub()) as congress, committed_db.session() as session:
        campaign_id = session.scalar(select(Campaign.id).where(Campaign.slug == campaign_slug))
        create_user(session, "organizer@example.org", PASSWORD, "organizer")
        create_wave(session, campaign_id, "When it passes the House", trigger="stage",
                    trigger_stage="passed_house")
        session.commit()
        BillReplay(congress, ("119", "hr", "2661")).show("in_committee")
        source = CongressGovClient(congress.api_url, API_KEY, RequestBudget(10))  # type: ignore[attr-defined]
        poll_campaign_bill(session, campaign_id, source)
        congress.refuse_key(403)  # type: ignore[attr-defined]
        poll_campaign_bill(session, campaign_id, source)
        session.execute(update(BillPoll).values(
            last_success_at=datetime.now(UTC) - timedelta(hours=7)))
        session.commit()
    return committed_db


def sign_in(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}/console/")
    page.fill("#email", "organizer@example.org")
    page.fill("#password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{live_server}/console/")


@pytest.mark.parametrize("size", SIZES)
def test_banner_leads_to_the_bill_page_that_says_what_failed_and_what_to_do(
        browser, live_server: str, refused_key, size: str) -> None:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    sign_in(page, live_server)
    banner = page.get_by_role("alert")
    expect(banner).to_contain_text("No poll of congress.gov has succeeded in the last 6 hours")
    page.screenshot(path=str(SCREENSHOTS / f"console-bill-banner-{size}.png"))
    banner.get_by_role("link", name="See why on the bill page").click()
    page.wait_for_url("**/console/bill?campaign=hketo-certification-act#watcher")
    watcher = page.locator("#watcher")
    expect(watcher).to_contain_text("Failed: congress.gov refused the API key")
    expect(watcher).to_contain_text("congress.gov refused the API key (403 API_KEY_INVALID)")
    expect(watcher).to_contain_text("Check CONGRESS_API_KEY for a typo")
    expect(watcher).to_contain_text("2 in all, 1 failed (1 in a row now)")
    path = SCREENSHOTS / f"console-bill-key-refused-{size}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.goto(f"{live_server}/console/bill?lang=zh-Hant")
    expect(page.locator("#watcher")).to_contain_text("失敗：congress.gov 拒絕了 API 金鑰")
    page.screenshot(path=str(SCREENSHOTS / f"console-bill-key-refused-zh-{size}.png"),
                    full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.goto(f"{live_server}/console/waves")
    waits = page.locator(".waits")
    expect(waits).to_contain_text("Waits for the bill to reach passed_house. The bill watcher "
                                  "last succeeded:")
    waits.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / f"console-waves-waiting-{size}.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    context.close()
