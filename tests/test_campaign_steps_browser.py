"""Steps 1 to 3 of the campaign page end to end in headless Chromium, with JavaScript on:
tweet links carry the right text, the email form submits, a real worker plans and sends, and the
confirmation mail lands in the dev outbox (no SendGrid key in tests)."""

from __future__ import annotations

import uuid
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from actionwave.mail.confirmation import confirmation_key
from actionwave.mail.outbox_mailer import DevOutboxMailer
from actionwave.messages.models import TargetAddress
from actionwave.platform.config import Settings
from actionwave.system.services import Services
from tests.support import wait_for

pytestmark = pytest.mark.browser

HANDLES = {"B001261": "SenJohnBarrasso", "L000571": "SenLummis", "H001096": "RepHageman"}
OWN_WORDS = "My parents still live in Hong Kong."


def look_up(page, live_server: str, campaign_slug: str, zip_code: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}/c/{campaign_slug}")
    page.fill("#lookup-zip", zip_code)
    page.click("form.lookup button[type=submit]")
    page.locator("#legislators h3").wait_for()


def submit_step3(page, email: str) -> uuid.UUID:  # type: ignore[no-untyped-def]
    page.fill("#first_name", "Mei")
    page.fill("#last_name", "Chan")
    page.fill("#email", email)
    page.fill("#city", "Cheyenne")
    page.fill("#message", OWN_WORDS)
    page.check("#consent")
    page.click("form.act button[type=submit]")
    page.wait_for_url("**/thanks**")
    return uuid.UUID(parse_qs(urlparse(page.url).query)["action"][0])


def delivered(settings: Settings, key: str) -> EmailMessage:
    path = DevOutboxMailer(settings).path_for(key)
    wait_for(path.exists, timeout=45, message=f"{key} in {path.parent}")
    return BytesParser(policy=policy.default).parsebytes(Path(path).read_bytes())  # type: ignore[return-value]


def test_one_district_tweets_then_email_then_confirmation_in_the_outbox(  # type: ignore[no-untyped-def]
    page, live_server: str, campaign_slug: str, committed_db: Services, settings: Settings,
    start_worker,
) -> None:
    with committed_db.session() as session:
        session.add(TargetAddress(bioguide_id="B001261", email="staff@barrasso.example.org"))
        session.commit()
    start_worker()
    look_up(page, live_server, campaign_slug, "82001")
    links = page.locator("#tweets a.tweet-link")
    assert links.count() == 9  # three tweets for each of the three legislators
    for link in links.all():
        text = parse_qs(urlparse(link.get_attribute("href")).query)["text"][0]
        assert text.startswith(f"@{HANDLES[link.get_attribute('data-bioguide')]} ")
        assert "H.R. 2661" in text
    page.context.route("https://x.com/**", lambda route: route.fulfill(
        status=200, content_type="text/html", body="<title>X</title>"))
    with page.expect_popup() as opened:
        links.first.click()
    popup_text = parse_qs(urlparse(opened.value.url).query)["text"][0]
    assert popup_text.startswith("@SenJohnBarrasso ") and "H.R. 2661" in popup_text
    assert "Sen. John Barrasso" in page.inner_text("#email-plan .channel-email")
    assert page.input_value("#zip") == "82001"

    action_id = submit_step3(page, "mei-wy@example.org")
    confirmation = delivered(settings, confirmation_key(action_id))
    assert confirmation["To"].addresses[0].addr_spec == "mei-wy@example.org"
    assert confirmation["Subject"] == "Thank you, Mei: your message on H.R. 2661"
    body = confirmation.get_content()
    assert "- Sen. John Barrasso: email to the office" in body
    assert "- Sen. Cynthia M. Lummis: your turn: we have no channel to this office, please " \
           "send it yourself; use the member's contact form" in body
    assert "- Rep. Harriet M. Hageman: your turn: we have no channel to this office, please " \
           "send it yourself; no online channel is on record: please call the office; " \
           "call the Washington office: 202-225-2311" in body
    assert OWN_WORDS in body  # the message itself, to paste into a form
    unsubscribe = str(confirmation["List-Unsubscribe"])
    assert unsubscribe.startswith(f"<{settings.public_url.rstrip('/')}/u/")
    assert ">, <mailto:unsubscribe@" in unsubscribe
    assert "=?" not in unsubscribe
    letter = delivered(settings, f"email:B001261:{action_id}")
    assert letter["To"].addresses[0].addr_spec == "staff@barrasso.example.org"
    assert letter.get_content().startswith("Dear Sen. John Barrasso,")
    assert OWN_WORDS in letter.get_content()


def test_split_zip_asks_for_the_district_and_the_confirmation_names_the_chosen_member(  # type: ignore[no-untyped-def]
    page, live_server: str, campaign_slug: str, settings: Settings, committed_db: Services,
    start_worker,
) -> None:
    start_worker()
    look_up(page, live_server, campaign_slug, "02139")
    choice = page.locator("#legislators .choose")
    assert "split between 2 congressional districts" in page.inner_text("#legislators")
    assert "Add your street address" in page.inner_text("#legislators")
    assert page.locator("#tweets a.tweet-link").count() == 6  # the senators only, for now
    page.check("#legislators input[name=district][value='7']")
    page.click("#legislators .choose button[type=submit]")
    choice.wait_for(state="detached")
    assert "Ayanna" in page.inner_text("#tweets")

    action_id = submit_step3(page, "mei-ma@example.org")
    body = delivered(settings, confirmation_key(action_id)).get_content()
    assert "- Rep. Ayanna Pressley:" in body and "- Sen. Elizabeth Warren:" in body
    assert "spans more than one district" not in body


def test_split_zip_without_a_choice_still_writes_to_the_senators(  # type: ignore[no-untyped-def]
    page, live_server: str, campaign_slug: str, settings: Settings, committed_db: Services,
    start_worker,
) -> None:
    start_worker()
    look_up(page, live_server, campaign_slug, "02139")
    action_id = submit_step3(page, "mei-ma2@example.org")
    body = delivered(settings, confirmation_key(action_id)).get_content()
    assert "- Sen. Elizabeth Warren:" in body and "- Sen. Edward J. Markey:" in body
    assert "spans more than one district" in body and "Rep." not in body
