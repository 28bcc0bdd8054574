"""Tweet templates in the console: refused at save over 280 in both languages, and a stored one
that X would refuse is shown on the campaign page, the editor and the public page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from actionwave.core.models import MessageTemplate
from actionwave.system.services import Services
from tests.organizer_support import (
    SCREENSHOTS,
    served,
    sign_in_page,
    sqlite_services,  # noqa: F401 (fixture)
    store,  # noqa: F401 (fixture)
    store_app,
)
from tests.test_console import csrf, sign_in
from tests.test_console_pages import SLUG, accounts  # noqa: F401 (fixture)

TWEET_EDITOR = f"/console/campaigns/{SLUG}/templates/tweet/1"
TOO_LONG = "{{ legislator.handle }} " + "x" * 270


def english_tweet(services) -> str:  # type: ignore[no-untyped-def]
    with services.session() as session:
        return session.scalar(select(MessageTemplate.body).where(
            MessageTemplate.kind == "tweet", MessageTemplate.name == "1",
            MessageTemplate.locale == "en"))


@pytest.mark.parametrize(("lang", "said"), [
    ("en", "X counts 287 of 280 characters for @"),
    ("zh-Hant", "X 計算為 287/280 字元"),
])
def test_a_tweet_over_280_is_refused_at_save_in_the_organizers_language(
        client, accounts, lang: str, said: str):  # noqa: F811
    sign_in(client, "organizer")
    before = english_tweet(accounts)
    response = client.post(f"{TWEET_EDITOR}?lang={lang}", data={
        "csrf_token": csrf(client), "body-en": TOO_LONG,
        "body-zh-Hant": "{{ legislator.handle }} 請支持 {{ bill.label }}"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="body-en-err">' in page and said in page
    assert 'aria-invalid="true" aria-describedby="body-en-err"' in page
    assert english_tweet(accounts) == before


def test_a_stored_tweet_too_long_is_shown_on_the_campaign_page_and_in_the_editor(
        client, accounts):  # noqa: F811
    """A data sync can bring a longer handle than the template was saved against."""
    with accounts.session() as session:
        session.execute(update(MessageTemplate).where(
            MessageTemplate.kind == "tweet", MessageTemplate.name == "1",
            MessageTemplate.locale == "en").values(body=TOO_LONG))
        session.commit()
    sign_in(client, "viewer")
    campaign = client.get(f"/console/campaigns/{SLUG}").get_data(as_text=True)
    assert 'class="field-error template-problem" role="alert">English: X counts 287' in campaign
    editor = client.get(TWEET_EDITOR).get_data(as_text=True)
    assert 'id="body-en-err">X counts 287 of 280' in editor


def test_the_public_page_shows_a_tweet_too_long_with_its_length(app, accounts):  # noqa: F811
    with accounts.session() as session:
        session.execute(update(MessageTemplate).where(
            MessageTemplate.kind == "tweet", MessageTemplate.name == "1",
            MessageTemplate.locale == "en").values(body=TOO_LONG))
        session.commit()
    html = app.test_client().get(f"/c/{SLUG}?zip=08701&district=4").get_data(as_text=True)
    assert '<p class="note too-long">X counts 281 of 280 characters: shorten it before you ' \
        "post.</p>" in html  # for @SenBooker


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["en", "zh-Hant"])
def test_organizer_sees_a_tweet_too_long_refused_in_chromium(browser, store: Services,  # noqa: F811
                                                             lang: str,
                                                             request: pytest.FixtureRequest):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    which = request.node.callspec.params["store"]
    with served(store_app(store)) as base:
        context = browser.new_context(viewport={"width": 390, "height": 844})
        page = context.new_page()
        sign_in_page(page, base)
        page.goto(f"{base}{TWEET_EDITOR}?lang={lang}")
        page.fill("#body-en", TOO_LONG)
        page.click("#template-form button[type=submit]:not([formaction])")
        error = page.locator("#body-en-err")
        expect(error).to_contain_text("287")
        expect(page.locator("#body-en")).to_have_attribute("aria-invalid", "true")
        error.scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / f"console-template-tweet-too-long-{lang}-"
                                               f"{which}.png"))
        context.close()
    assert english_tweet(store) != TOO_LONG
