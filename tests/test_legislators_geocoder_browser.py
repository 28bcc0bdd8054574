"""A street address in a split ZIP, looked up in headless Chromium through the Census stub that
answers like the real service: one district, so one representative."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from actionwave.platform.config import Settings
from actionwave.system.services import Services
from tests.stubs.base import StubServer, serve
from tests.stubs.census import CensusHandler
from web import create_app

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[1] / "instance" / "screenshots"


@pytest.fixture
def census() -> Iterator[StubServer]:
    with serve(CensusHandler) as server:
        server.state["matches"] = [{"matched": "77 MASSACHUSETTS AVE, CAMBRIDGE, MA, 02139",
                                    "state": "MA", "district": 7, "zip": "02139"}]
        yield server


@pytest.fixture
def census_site(settings: Settings, census: StubServer, campaign_slug: str) -> Iterator[str]:
    """The app, its geocoder pointed at the Census stub, served over HTTP."""
    own = replace(settings, geocoder_url=census.url, geocoder_timeout_seconds=2.0,
                  namespace=f"{settings.namespace}-geobrowser-{time.monotonic_ns()}")
    services = Services(own)
    server = make_server("127.0.0.1", 0, create_app(own, services), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    services.close()


def test_street_address_in_a_split_zip_finds_the_one_representative(
        page, census_site: str, census: StubServer, campaign_slug: str) -> None:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{census_site}/c/{campaign_slug}")
    page.fill("#lookup-zip", "02139")
    page.fill("#lookup-address", "77 Massachusetts Ave, Cambridge, MA")
    page.screenshot(path=str(SCREENSHOTS / "split-zip-address-1-filled.png"), full_page=True)
    page.click("form.lookup button[type=submit]")
    page.locator("#legislators h3").wait_for()
    page.screenshot(path=str(SCREENSHOTS / "split-zip-address-2-found.png"), full_page=True)
    found = page.inner_text("#legislators")
    assert "We found your district from your street address." in found
    assert "Ayanna Pressley" in found and "MA-7" in found
    assert "Katherine M. Clark" not in found  # MA-5, the ZIP's other district
    assert page.locator("#legislators .choose").count() == 0  # nothing left to choose
    assert [q["layers"] for q in census.state["queries"]] == ["54"]
