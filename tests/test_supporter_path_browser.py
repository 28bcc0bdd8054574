"""The supporter's path in Chromium against ``actionwave up`` itself (the embedded default:
SQLite and the SQLite broker, nothing configured), at phone and desktop sizes, in English and
Traditional Chinese, with and without JavaScript. Each step is saved under
``instance/screenshots/`` for a person to look at."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, SHARED_DATA
from tests.support import free_port, wait_for

pytestmark = pytest.mark.browser

SCREENSHOTS = ROOT / "instance" / "screenshots" / "supporter-path"
SIZES = {"phone": (390, 844), "desktop": (1280, 800)}
SLUG = "hketo-certification-act"
SETTINGS_VARS = ("DATABASE_URL", "BROKER_URL", "REDIS_URL", "SENDGRID_API_KEY", "NAMESPACE",
                 "PUBLIC_URL", "CWC_API_URL", "CWC_API_KEY")
WORDS = {"en": {"your_turn": "Your turn", "thanks": "Thank you", "status": "What happened"},
         "zh-Hant": {"your_turn": "輪到您", "thanks": "謝謝", "status": "您的訊息進度"}}


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``actionwave up`` with nothing configured but its instance folder and the data source."""
    instance = tmp_path_factory.mktemp("up") / "instance"
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARS}
    env.update(INSTANCE_PATH=str(instance), DATA_SOURCE=str(SHARED_DATA))
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "actionwave", "up", "--port", str(port)],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(f"{base}/healthz"), timeout=90, message="actionwave up")
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def new_page(browser, size: str, js: bool):  # type: ignore[no-untyped-def]
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height},
                                  java_script_enabled=js, device_scale_factor=1)
    return context, context.new_page()


def shot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    assert page.evaluate("document.documentElement.scrollWidth") <= \
        page.viewport_size["width"], f"{name}: wider than the screen"
    return path


def look_up(page, zip_code: str, js: bool) -> None:  # type: ignore[no-untyped-def]
    page.fill("#lookup-zip", zip_code)
    page.click("form.lookup button[type=submit]")
    if js:  # swapped in place (the page's CSP allows no string evaluation: poll instead)
        wait_for(lambda: zip_code in page.inner_text("#legislators"), timeout=10,
                 message="the lookup's answer")
    else:
        page.wait_for_load_state()


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
@pytest.mark.parametrize("locale", ["en", "zh-Hant"])
@pytest.mark.parametrize("size", SIZES)
def test_supporter_looks_up_sends_and_is_told_the_truth(browser, up: str, size: str,
                                                        locale: str, js: bool):
    name = f"{size}-{locale}-{'js' if js else 'nojs'}"
    words = WORDS[locale]
    context, page = new_page(browser, size, js)
    try:
        page.goto(f"{up}/c/{SLUG}?lang={locale}")
        shot(page, f"{name}-1-page")
        # The ZIP field and the first call to action are on the first screen.
        button = page.locator("form.lookup button[type=submit]").bounding_box()
        assert button and button["y"] + button["height"] <= SIZES[size][1]
        assert button["height"] >= 44
        look_up(page, "82001", js)
        assert "Barrasso" in page.inner_text("#legislators")
        shot(page, f"{name}-2-legislators")
        page.locator("form.act").scroll_into_view_if_needed()
        page.fill("#first_name", "Mei")
        page.fill("#last_name", "Chan")
        page.fill("#email", f"mei-{name}@example.org".lower())
        assert page.input_value("#zip") == "82001"
        message = f"My own words from {name}."
        page.fill("#message", message)
        page.locator("#email-plan").scroll_into_view_if_needed()
        shot(page, f"{name}-3-before-sending")
        # Nothing is configured: no channel of ours reaches Wyoming's offices, and it says so.
        assert page.locator("#email-plan li.your-turn").count() == 3
        page.click("form.act button[type=submit]")
        page.wait_for_url(re.compile(r".*/thanks\?action="), timeout=10_000)
        text = page.inner_text("main")
        assert words["thanks"] in text and message in text
        assert text.count(words["your_turn"]) >= 3 and "202-225-2311" in text
        shot(page, f"{name}-4-thanks")
        page.locator(".outcome-panel a[href*='/status/']").click()
        page.wait_for_url(re.compile(r".*/status/"))
        assert words["status"] in page.inner_text("main")
        shot(page, f"{name}-5-status")
    finally:
        context.close()


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_a_new_lookup_drops_the_district_chosen_for_the_last(browser, up: str, js: bool):
    name = f"phone-en-{'js' if js else 'nojs'}-split"
    context, page = new_page(browser, "phone", js)
    try:
        page.goto(f"{up}/c/{SLUG}")
        look_up(page, "10001", js)
        page.check("#legislators input[name=district][value='12']")
        page.click("#legislators .choose button[type=submit]")
        wait_for(lambda: page.input_value("#chosen-district") == "12", timeout=10,
                 message="the district chosen")
        shot(page, f"{name}-1-chosen")
        look_up(page, "94103", js)
        assert page.input_value("#chosen-district") == ""
        assert page.input_value("#zip") == "94103"
        shot(page, f"{name}-2-new-lookup")
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["en", "zh-Hant"])
def test_a_refused_form_shows_the_error_on_the_first_screen(browser, up: str, locale: str):
    context, page = new_page(browser, "phone", False)
    try:
        page.goto(f"{up}/c/{SLUG}?lang={locale}")
        page.fill("#first_name", "Mei")
        page.fill("#last_name", "Chan")
        page.fill("#email", "not-an-email")
        page.fill("#zip", "82001")
        page.fill("#message", "Kept when refused.")
        page.eval_on_selector("form.act", "f => f.setAttribute('novalidate', '')")
        page.click("form.act button[type=submit]")
        page.wait_for_load_state()
        alert = page.locator("[role=alert]")
        assert alert.is_visible()
        assert page.input_value("#message") == "Kept when refused."
        assert page.get_attribute("#email", "aria-invalid") == "true"
        shot(page, f"phone-{locale}-nojs-error")
    finally:
        context.close()


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_a_refused_district_is_announced_and_marked(browser, up: str, js: bool):
    name = f"phone-en-{'js' if js else 'nojs'}-district-error"
    context, page = new_page(browser, "phone", js)
    try:
        page.goto(f"{up}/c/{SLUG}?zip=10001&district=12")
        page.fill("#first_name", "Mei")
        page.fill("#last_name", "Chan")
        page.fill("#email", f"{name}@example.org")
        page.fill("#message", "Kept when the district is refused.")
        # A district of no district of 10001's (as a stale page or a hand-made post sends).
        page.eval_on_selector("#chosen-district", "f => { f.value = '3'; }")
        page.click("form.act button[type=submit]")
        page.wait_for_load_state()
        alert = page.locator("[role=alert]")
        assert alert.is_visible() and "ZIP 10001" in alert.inner_text()
        # Focused, and on the 390x844 screen.
        assert page.evaluate("document.activeElement.id") == "error-district"
        box = page.locator("#error-district").bounding_box()
        assert box and box["y"] >= 0 and box["y"] + box["height"] <= SIZES["phone"][1]
        # The supporter chooses again, from this ZIP's districts, each marked invalid.
        radios = page.locator("#legislators input[name=district]")
        assert radios.count() >= 2
        assert {radios.nth(i).get_attribute("aria-invalid") for i in range(radios.count())} \
            == {"true"}
        assert radios.first.get_attribute("aria-describedby") == "error-district"
        assert page.input_value("#message") == "Kept when the district is refused."
        assert page.input_value("#chosen-district") == ""
        shot(page, name)
    finally:
        context.close()


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_switching_language_keeps_the_lookup_and_what_was_typed(browser, up: str, js: bool):
    context, page = new_page(browser, "phone", js)
    try:
        page.goto(f"{up}/c/{SLUG}")
        look_up(page, "82001", js)
        page.fill("#message", "Typed before switching.")
        page.click("a.lang-link[lang=zh-Hant]")
        page.wait_for_url(re.compile(r".*lang=zh-Hant"))
        assert page.locator("html").get_attribute("lang") == "zh-Hant"
        assert "Barrasso" in page.inner_text("#legislators")  # the lookup is kept
        assert "懷俄明州唯一的眾議員" in page.inner_text("#legislators")  # "at large", said
        assert "Bioguide" not in page.inner_text("main") and "SWY" not in page.inner_text("main")
        if js:  # the typed text rides along in the tab's sessionStorage
            assert page.input_value("#message") == "Typed before switching."
        shot(page, f"phone-zh-Hant-{'js' if js else 'nojs'}-switched")
        # Every link a supporter taps is at least 44 px high.
        small = page.evaluate("""[...document.querySelectorAll(
            '#legislators .contact a, #tweets a.tweet-link, #email-plan a, .langs a')]
            .filter(a => a.getBoundingClientRect().height > 0
                    && a.getBoundingClientRect().height < 44).map(a => a.textContent)""")
        assert small == []
    finally:
        context.close()


def test_switching_language_without_javascript_keeps_the_typed_text(browser, up: str):
    context, page = new_page(browser, "phone", False)
    try:
        page.goto(f"{up}/c/{SLUG}")
        look_up(page, "82001", False)
        page.fill("#first_name", "Mei")
        page.fill("#email", "switch-nojs@example.org")
        page.fill("#message", "Typed before switching, without JavaScript.")
        button = page.locator("button.lang-switch[value=zh-Hant]")
        assert (button.bounding_box() or {}).get("height", 0) >= 44
        button.click()
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == "zh-Hant"
        assert page.input_value("#message") == "Typed before switching, without JavaScript."
        assert page.input_value("#first_name") == "Mei"
        assert page.input_value("#email") == "switch-nojs@example.org"
        assert page.input_value("#zip") == "82001"
        assert "Barrasso" in page.inner_text("#legislators")
        page.locator("#message").scroll_into_view_if_needed()
        shot(page, "phone-zh-Hant-nojs-switched-keeps-text")
        # And back, by the same button in the other language.
        page.click("button.lang-switch[value=en]")
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.input_value("#message") == "Typed before switching, without JavaScript."
    finally:
        context.close()


@pytest.mark.parametrize("size,locale,js", [("phone", "en", False), ("desktop", "zh-Hant", True)])
def test_call_them_and_say_i_called(browser, up: str, size: str, locale: str, js: bool):
    name = f"{size}-{locale}-{'js' if js else 'nojs'}-call"
    context, page = new_page(browser, size, js)
    try:
        page.goto(f"{up}/c/{SLUG}?lang={locale}&zip=82001")
        page.fill("#first_name", "Mei")
        page.fill("#last_name", "Chan")
        page.fill("#email", f"{name}@example.org".lower())
        page.click("form.act button[type=submit]")
        page.wait_for_url(re.compile(r".*/thanks\?action="))
        call = page.locator("details.call").first
        call.locator("summary").click()
        assert "H.R. 2661" in call.inner_text()  # the call script
        assert call.locator("a[href^='tel:']").count() == 0  # phones are on the line above
        shot(page, f"{name}-1-script")
        call.locator("button[type=submit]").click()
        page.wait_for_url(re.compile(r".*/status/"))
        assert page.locator("p.called").count() == 1
        shot(page, f"{name}-2-called")
    finally:
        context.close()
