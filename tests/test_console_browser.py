"""The console in a real headless Chromium: sign in, see the dashboard, screenshots."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from actionwave.accounts.services import create_user
from actionwave.core.models import Action, Campaign, Delivery, Supporter
from actionwave.mail.consent import grant_consent

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
            session.add(Delivery(action_id=action.id, campaign_id=campaign.id, channel="email",
                                 state=state,
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
    assert page.locator("h1").inner_text() == "Dashboard · Launch"
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


@pytest.fixture
def organizer_and_campaign(committed_db, campaign_slug):  # type: ignore[no-untyped-def]
    with committed_db.session() as session:
        create_user(session, "organizer@example.org", PASSWORD, "organizer")
    return campaign_slug


def test_editing_a_template_updates_the_preview_as_the_organizer_types(
        page, live_server: str, organizer_and_campaign: str):
    sign_in(page, live_server)
    page.click("nav.nav >> text=Campaigns")
    page.click(f"a[href*='/console/campaigns/{organizer_and_campaign}']")
    page.click("#templates a >> text=Email to legislators")
    english = page.locator(".preview[data-locale=en] .rendered")
    expect(english).to_contain_text("Dear Rep. ")
    page.fill("#body-en", "Hello {{ legislator.title }} {{ legislator.name }}, "
                          "from {{ supporter.first_name }} in {{ supporter.city }}.")
    expect(english).to_contain_text("from Mei in Cheyenne.")
    page.select_option("#chamber", "senate")
    expect(english).to_contain_text("Hello Sen. ")
    # The Chinese version is previewed beside it, and a broken line is named.
    expect(page.locator(".preview[data-locale=zh-Hant] .rendered")).to_contain_text("Sen.")
    page.fill("#body-en", "Hi\n{{ supporter.email }}")
    expect(page.locator(".preview[data-locale=en] .field-errors")).to_contain_text("line 2")
    page.fill("#body-en", "Dear {{ legislator.name }}, please {{ ask }}")
    page.click("button:text-is('Save')")
    expect(page.locator(".notice")).to_contain_text("was saved")
    assert page.input_value("#body-en") == "Dear {{ legislator.name }}, please {{ ask }}"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "console-template-desktop.png"), full_page=True)
    page.goto(f"{live_server}/console/campaigns/{organizer_and_campaign}")
    page.screenshot(path=str(ARTIFACTS / "console-campaign-desktop.png"), full_page=True)


def test_a_wave_launched_in_the_console_reaches_100_percent_through_a_real_worker(
        browser, live_server: str, organizer_and_campaign: str, committed_db, settings,
        start_worker):
    from actionwave.waves.launch import WAVE_CHANNEL
    from tests.delivery_support import mail_settings
    from tests.stubs.sendgrid import sendgrid_stub
    from tests.support import wait_for
    from workers.celery_app import create_celery

    with committed_db.session() as session:
        campaign_id = session.scalar(select(Campaign.id).where(
            Campaign.slug == organizer_and_campaign))
        for n in range(12):
            supporter = Supporter(email=f"w{n}@example.org", first_name="W", last_name=str(n),
                                  zip="82001", state="WY")
            session.add(supporter)
            session.flush()
            grant_consent(session, supporter.id, campaign_id, source="import")
        session.commit()
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    with sendgrid_stub() as stub:
        start_worker(mail_settings(settings, stub))
        beat = create_celery(settings)  # the test plays beat: it sends beat's two tasks
        sign_in(page, live_server)
        page.goto(f"{live_server}/console/waves")
        page.fill("#name", "Wyoming, write again")
        page.fill("#states", "WY")
        page.click("button:text-is('Create wave')")
        expect(page.locator(".notice")).to_contain_text("created (draft)")
        wave = page.locator(".wave").first
        wave.locator("button:text-is('Launch')").click()
        expect(page.locator(".notice")).to_contain_text("is running")

        def sent_all() -> bool:
            beat.send_task("actionwave.advance_waves")
            beat.send_task("actionwave.sweep_deliveries")
            return page.locator(".wave .percent").first.inner_text() == "100%"

        wait_for(sent_all, timeout=45, interval=1.0, message="the wave's bar at 100%")
        assert "12 sent, 0 failed, of 12" in page.locator(".wave").first.inner_text()
        assert len({a.key for a in stub.accepted}) >= 12
        page.screenshot(path=str(ARTIFACTS / "console-waves-phone.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        beat.services.close()
    with committed_db.session() as session:
        states = session.scalars(select(Delivery.state).where(Delivery.channel == WAVE_CHANNEL))
        assert set(states) == {"sent"}
    context.close()


def test_organizer_retries_a_dead_delivery_from_the_list(page, live_server: str,
                                                         organizer_and_campaign: str,
                                                         committed_db):
    with committed_db.session() as session:
        campaign_id = session.scalar(select(Campaign.id).where(
            Campaign.slug == organizer_and_campaign))
        dead = Delivery(campaign_id=campaign_id, channel="email",
                        recipient="office@example.org", state="dead",
                        attempts=8, last_error="550 mailbox unavailable",
                        idempotency_key="dead-browser")
        session.add(dead)
        session.commit()
        dead_id = dead.id
    sign_in(page, live_server)
    page.goto(f"{live_server}/console/deliveries?state=dead")
    row = page.locator("tr.state-dead", has_text="550 mailbox unavailable")
    row.locator("button:text-is('Retry')").click()
    expect(page.locator(".notice")).to_contain_text(f"Delivery #{dead_id} will be tried again")
    with committed_db.session() as session:
        assert session.get(Delivery, dead_id).state == "pending"
