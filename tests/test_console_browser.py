"""The console in a real headless Chromium: sign in, see the dashboard, screenshots."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from actionwave.accounts.services import create_user
from actionwave.models import Action, Campaign, Delivery, Supporter

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent / "artifacts"
PASSWORD = "correct horse battery"
STATES = ["CA", "NY", "TX", "WA", "MA", "IL", "WY"]


@pytest.fixture
def launch_data(committed_db):  # type: ignore[no-untyped-def]
    """An organizer and a day of actions across states, with deliveries in every state."""
    now = datetime.now(UTC)
    with committed_db.session() as session:
        create_user(session, "organizer@example.org", PASSWORD, "organizer")
        campaign = Campaign(slug="launch", title="Launch")
        session.add(campaign)
        session.flush()
        for n in range(60):
            supporter = Supporter(email=f"s{n}@example.org", first_name="S", last_name=str(n),
                                  zip="10001", state=STATES[(n * n) % len(STATES)])
            session.add(supporter)
            session.flush()
            created = now - timedelta(hours=(n * 7) % 30, minutes=n)
            action = Action(campaign_id=campaign.id, supporter_id=supporter.id,
                            idempotency_key=f"k{n}", status="done", created_at=created,
                            resolved_at=created)
            session.add(action)
            session.flush()
            state = ["sent", "sent", "sent", "pending", "failed", "dead"][n % 6]
            session.add(Delivery(action_id=action.id, channel="email", state=state,
                                 recipient="office@example.org", idempotency_key=str(uuid.uuid4()),
                                 last_error="550 mailbox unavailable" if state == "dead" else None))
        session.commit()
    return committed_db


def sign_in(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}/console/")
    page.wait_for_url("**/console/login**")
    page.fill("#email", "organizer@example.org")
    page.fill("#password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{live_server}/console/")


def test_organizer_signs_in_and_sees_the_dashboard(page, live_server: str, launch_data):
    sign_in(page, live_server)
    assert page.locator("h1").inner_text() == "Dashboard"
    funnel = page.locator(".funnel").inner_text()
    assert "60" in funnel and "dead" in funnel
    assert page.locator("svg.chart rect").count() > 24
    assert page.locator("table.bars tbody tr").count() == len(
        {STATES[(n * n) % len(STATES)] for n in range(60)})
    # The live refresh swaps the numbers in without a reload.
    page.evaluate("document.querySelector('#numbers p.muted').textContent = 'stale'")
    expect(page.locator("#numbers p.muted").first).not_to_have_text("stale", timeout=15000)


def test_dashboard_screenshots_at_phone_and_desktop_widths(browser, live_server: str,
                                                           launch_data):
    ARTIFACTS.mkdir(exist_ok=True)
    for name, size in (("phone", (390, 844)), ("desktop", (1366, 900))):
        context = browser.new_context(viewport={"width": size[0], "height": size[1]})
        page = context.new_page()
        sign_in(page, live_server)
        path = ARTIFACTS / f"console-dashboard-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000
        # Nothing wider than the screen: no sideways scrolling on a phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
        page.goto(f"{live_server}/console/deliveries?state=dead")
        page.screenshot(path=str(ARTIFACTS / f"console-deliveries-{name}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
        context.close()
