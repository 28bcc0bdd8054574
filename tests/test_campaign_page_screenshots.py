"""Screenshots of the public campaign page at phone and desktop widths, in both languages,
before and after a ZIP lookup, for a person to look at (written to tests/artifacts/)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent / "artifacts"
SIZES = {"phone": (390, 844), "desktop": (1366, 900)}


@pytest.mark.parametrize("size", SIZES)
def test_campaign_page_screenshots_fit_the_screen(browser, live_server: str, campaign_slug: str,
                                                  size: str):
    ARTIFACTS.mkdir(exist_ok=True)
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    for name, query in (("", ""), ("-82001", "?zip=82001"), ("-zh", "?lang=zh-Hant&zip=82001")):
        page.goto(f"{live_server}/c/{campaign_slug}{query}")
        path = ARTIFACTS / f"campaign{name}-{size}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000
        assert page.evaluate("document.documentElement.scrollWidth") <= width, query
    # Every form control has a label a screen reader can announce.
    unlabeled = page.evaluate("""
        [...document.querySelectorAll("input:not([type=hidden]), textarea, select")]
        .filter(e => !e.closest(".hp") && !(e.labels && e.labels.length)
                && !e.getAttribute("aria-label")).map(e => e.name)""")
    assert unlabeled == []
    context.close()
