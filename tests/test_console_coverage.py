"""The coverage page on PostgreSQL and on the embedded SQLite database: channels counted by chamber
and state, the offices with no channel, and office channels in bulk (upload, preview, confirm;
download), over HTTP and in a real Chromium."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from actionwave.campaigns.coverage_csv import BOM
from actionwave.messages.models import OfficeChannel
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

GOOD = ("bioguide_id,cwc_office,contact_form,email\n"
        "B001323,,https://begich.house.gov/contact,\n"
        "S000522,,,smith@mail.house.gov\n")
BAD = "bioguide_id,cwc_office,contact_form,email\nB001323,,ftp://nope,\nZ999999,,,\n"


def overrides(services: Services) -> int:
    with services.session() as session:
        return session.scalar(select(func.count()).select_from(OfficeChannel)) or 0


def upload(client, text: str, lang: str = "en"):  # type: ignore[no-untyped-def]
    return client.post(f"/console/coverage/import?lang={lang}", content_type="multipart/form-data",
                       data={"csrf_token": csrf(client),
                             "file": (io.BytesIO((BOM + text).encode()), "channels.csv")})


def test_the_page_counts_channels_by_chamber_and_state_and_lists_offices_without_one(
        store: Services):  # noqa: F811
    client = store_app(store).test_client()
    sign_in(client, "viewer")
    page = client.get("/console/coverage").get_data(as_text=True)
    house = re.search(r'<tr><th scope="row">House</th>(.*?)</tr>', page).group(1)
    numbers = [int(n) for n in re.findall(r'<td class="n">(\d+)</td>', house)]
    assert len(numbers) == 5 and sum(numbers) > 430  # every seat but the vacant ones
    assert '<details class="by-state" id="by-state-senate">' in page
    assert re.search(r'<tr><th scope="row">AK</th>', page)
    assert 'id="leg-B001323"' in page  # Alaska's representative: no channel in the data
    assert 'name="file"' not in page  # a viewer may download, not import
    assert client.get("/console/coverage.csv").data.startswith(BOM.encode())


def test_an_upload_is_previewed_then_applied_on_confirmation(store: Services):  # noqa: F811
    client = store_app(store).test_client()
    sign_in(client, "organizer")
    preview = upload(client, GOOD)
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "2 rows read: 2 changes." in page
    assert "https://begich.house.gov/contact" in page and overrides(store) == 0
    fingerprint = re.search(r'name="fingerprint" value="(\w+)"', page).group(1)
    done = client.post("/console/coverage/import/confirm", data={
        "csrf_token": csrf(client), "csv": GOOD, "fingerprint": fingerprint})
    assert done.status_code == 302
    assert "2 changes from 2 rows applied." in client.get(done.headers["Location"]).get_data(
        as_text=True)
    assert overrides(store) == 1
    assert 'id="leg-B001323"' not in client.get("/console/coverage").get_data(as_text=True)


def test_bad_rows_are_listed_by_line_in_the_organizers_language_and_nothing_changes(
        store: Services):  # noqa: F811
    client = store_app(store).test_client()
    sign_in(client, "organizer")
    response = upload(client, BAD, lang="zh-Hant")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "2 個問題：不會作出任何變更" in page
    assert "第 2 行 · <code>contact_form</code>: ftp://nope：請填寫網址" in page
    assert "第 3 行 · <code>bioguide_id</code>: Z999999：不是現任議員" in page
    assert 'aria-invalid="true" aria-describedby="import-errors-h"' in page
    assert 'name="fingerprint"' not in page and overrides(store) == 0


def test_a_confirmation_for_a_different_file_is_refused(store: Services):  # noqa: F811
    client = store_app(store).test_client()
    sign_in(client, "organizer")
    response = client.post("/console/coverage/import/confirm", data={
        "csrf_token": csrf(client), "csv": GOOD, "fingerprint": "0" * 16})
    assert response.status_code == 400 and "changed since the preview" in response.get_data(
        as_text=True)
    assert overrides(store) == 0


def test_a_viewer_cannot_import(store: Services):  # noqa: F811
    client = store_app(store).test_client()
    sign_in(client, "viewer")
    assert upload(client, GOOD).status_code == 403
    assert client.post("/console/coverage/import/confirm", data={
        "csrf_token": csrf(client), "csv": GOOD}).status_code == 403


@pytest.mark.browser
def test_organizer_imports_channels_in_chromium(browser, store: Services,  # noqa: F811
                                                tmp_path: Path, request: pytest.FixtureRequest):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    which = request.node.callspec.params["store"]
    good, bad = tmp_path / "channels.csv", tmp_path / "bad.csv"
    good.write_text(BOM + GOOD, encoding="utf-8")
    bad.write_text(BAD, encoding="utf-8")
    with served(store_app(store)) as base:
        for name, size in (("phone", (390, 844)), ("desktop", (1280, 800))):
            context = browser.new_context(viewport={"width": size[0], "height": size[1]})
            page = context.new_page()
            sign_in_page(page, base)
            page.goto(f"{base}/console/coverage")
            page.click("#by-state-house summary")
            expect(page.locator("#by-state-house table")).to_be_visible()
            page.screenshot(path=str(SCREENSHOTS / f"console-coverage-{name}-{which}.png"),
                            full_page=name == "desktop")
            context.close()
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        sign_in_page(page, base)
        page.goto(f"{base}/console/coverage?lang=zh-Hant")
        page.set_input_files("#import-file", str(bad))
        page.click("form.upload button[type=submit]")
        expect(page.locator(".import-errors li")).to_have_count(2)
        page.locator("#import-preview").screenshot(
            path=str(SCREENSHOTS / f"console-coverage-import-errors-zh-Hant-{which}.png"))
        page.goto(f"{base}/console/coverage")
        page.set_input_files("#import-file", str(good))
        page.click("form.upload button[type=submit]")
        expect(page.locator("table.changes tbody tr")).to_have_count(2)
        page.locator("#import-preview").screenshot(
            path=str(SCREENSHOTS / f"console-coverage-import-preview-{which}.png"))
        page.click("#import-preview button[type=submit]")
        expect(page.locator(".notice")).to_contain_text("2 changes from 2 rows applied.")
        context.close()
    assert overrides(store) == 1
