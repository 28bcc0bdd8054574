"""The campaign page in a real headless Chromium, with and without JavaScript."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from actionwave.core.models import Action, Supporter
from tests.support import wait_for

pytestmark = pytest.mark.browser


@pytest.fixture
def no_js_page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    yield page
    context.close()


def fill_step3(page, email: str) -> None:  # type: ignore[no-untyped-def]
    page.fill("#first_name", "Mei")
    page.fill("#last_name", "Chan")
    page.fill("#email", email)
    page.fill("#zip", "82001")


def test_page_shows_the_three_steps_in_both_languages(page, live_server: str,
                                                      campaign_slug: str):
    page.goto(f"{live_server}/c/{campaign_slug}")
    assert "H.R. 2661" in page.inner_text("header.hero")
    headings = page.locator("section.step h2").all_inner_texts()
    assert len(headings) == 3
    page.goto(f"{live_server}/c/{campaign_slug}?lang=zh-Hant")
    assert page.locator("html").get_attribute("lang") == "zh-Hant"
    assert "找出您的國會議員" in page.inner_text("main")


def test_form_without_javascript_reaches_a_real_worker(no_js_page, live_server: str,
                                                       campaign_slug: str, committed_db,
                                                       start_worker):
    start_worker()
    no_js_page.goto(f"{live_server}/c/{campaign_slug}")
    fill_step3(no_js_page, "nojs@example.org")
    no_js_page.click("form.act button[type=submit]")
    no_js_page.wait_for_url("**/thanks**")
    assert "Thank you" in no_js_page.inner_text("main")
    with committed_db.session() as session:
        supporter_id = session.scalar(
            select(Supporter.id).where(Supporter.email == "nojs@example.org"))
        assert supporter_id is not None

        def processed() -> bool:
            session.expire_all()
            status = session.scalar(select(Action.status).where(
                Action.supporter_id == supporter_id))
            return status not in (None, "accepted")

        wait_for(processed, message="the worker to process the browser's submission")


def test_invalid_form_shows_the_error_next_to_what_to_fix(no_js_page, live_server: str,
                                                          campaign_slug: str, committed_db):
    no_js_page.goto(f"{live_server}/c/{campaign_slug}")
    fill_step3(no_js_page, "not-an-email")
    # The browser's own validation would stop this; a server must still refuse it clearly.
    no_js_page.eval_on_selector("form.act", "f => f.setAttribute('novalidate', '')")
    no_js_page.click("form.act button[type=submit]")
    alert = no_js_page.locator("[role=alert]")
    assert "Something went wrong" in alert.inner_text()
    assert "email" in alert.inner_text().lower()
    assert no_js_page.input_value("#first_name") == "Mei"  # what they typed is kept


def test_lookup_with_javascript_updates_the_steps_in_place(page, live_server: str,
                                                           campaign_slug: str):
    page.goto(f"{live_server}/c/{campaign_slug}")
    page.evaluate("window.stillTheSamePage = true")
    page.fill("#lookup-zip", "02139")
    page.click("form.lookup button[type=submit]")
    split = page.locator("#legislators .choose")
    split.wait_for()
    assert "MA-5" in split.inner_text() and "MA-7" in split.inner_text()
    page.check("#legislators input[name=district][value='7']")
    page.click("#legislators .choose button[type=submit]")
    split.wait_for(state="detached")  # the answer for one district has replaced the choice
    assert page.input_value("#chosen-district") == "7"
    assert page.evaluate("window.stillTheSamePage") is True  # no page load happened
    people = page.inner_text("#legislators")
    assert "MA-7" in people and "MA-5" not in people
    assert page.locator("#tweets a[href*='x.com/intent/tweet']").count() >= 3
    assert page.input_value("#zip") == "02139"  # carried into the step 3 form
    assert "district=7" in page.url
