"""Every supporter path on both stores: the form without JavaScript, its embeddable copy and the
JSON API, on PostgreSQL and on the embedded SQLite database as ``actionwave up`` makes it.

On SQLite a request once held the write lock from its first read (the campaign) while the
submission store waited for it on a second connection: 30 s, then 503, and the message lost.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from actionwave.core.models import Action, Supporter
from actionwave.system.services import Services
from tests.conftest import CAMPAIGN_FILE
from tests.organizer_support import (  # noqa: F401 (fixtures)
    sqlite_services,
    store,
    store_app,
)

SLUG = CAMPAIGN_FILE.stem
FORM = {"first_name": "Mei", "last_name": "Chan", "zip": "82001", "locale": "en",
        "message": "Please certify the HKETOs: my own words."}
# Far below SQLite's 30 s busy timeout: a request that waits on a lock shows up here.
QUICK_SECONDS = 5.0


@pytest.fixture
def app(store: Services) -> Flask:  # noqa: F811
    return store_app(store)


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as client:
        yield client


def token_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the form carries no CSRF token"
    return found.group(1)


def stored_message(services: Services, email: str) -> str | None:
    with services.session() as session:
        return session.scalar(select(Action.message).join(Supporter).where(
            Supporter.email == email))


def timed_post(client: FlaskClient, url: str, **kwargs: object):  # type: ignore[no-untyped-def]
    started = time.monotonic()
    response = client.post(url, **kwargs)
    assert time.monotonic() - started < QUICK_SECONDS, "the submission waited on a lock"
    return response


@pytest.mark.parametrize("prefix", ["", "/embed"])
def test_form_without_javascript_is_stored_and_thanked(client: FlaskClient, store: Services,  # noqa: F811
                                                       prefix: str):
    page = client.get(f"{prefix}/c/{SLUG}").get_data(as_text=True)
    email = f"form{prefix.strip('/')}@example.org"
    response = timed_post(client, f"{prefix}/c/{SLUG}/act",
                          data={**FORM, "email": email, "csrf_token": token_of(page)})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert f"{prefix}/c/{SLUG}/thanks?action=" in response.headers["Location"]
    assert stored_message(store, email) == FORM["message"]
    thanks = client.get(response.headers["Location"])
    assert thanks.status_code == 200
    page = thanks.get_data(as_text=True)
    # No channel of ours reaches Wyoming's offices by default: the page says so, per legislator,
    # with the message to paste and the phones to call; no promise of delivery.
    assert page.count("Your turn: no channel of ours") == 3
    assert FORM["message"] in page and "202-225-2311" in page
    assert "Delivered to the office" not in page
    action = re.search(r"action=([0-9a-f-]+)", response.headers["Location"]).group(1)
    status = client.get(f"/c/{SLUG}/status/{action}?lang=zh-Hant")
    assert status.status_code == 200 and "text/html" in status.content_type
    assert "您的訊息進度" in status.get_data(as_text=True)
    assert client.get(f"/api/v1/actions/{action}").is_json


def test_json_api_is_stored(client: FlaskClient, store: Services):  # noqa: F811
    response = timed_post(client, f"/api/v1/campaigns/{SLUG}/actions",
                          json={**FORM, "email": "api@example.org"})
    assert response.status_code == 202
    assert stored_message(store, "api@example.org") == FORM["message"]


def test_refused_form_comes_back_with_everything_typed(client: FlaskClient,
                                                       store: Services):  # noqa: F811
    page = client.get(f"/c/{SLUG}?lang=zh-Hant").get_data(as_text=True)
    response = timed_post(client, f"/c/{SLUG}/act", data={
        **FORM, "locale": "zh-Hant", "email": "not-an-email", "csrf_token": token_of(page)})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'lang="zh-Hant"' in body
    for typed in ("Mei", "Chan", "not-an-email", FORM["message"]):
        assert typed in body


def test_form_kept_when_the_database_cannot_store_it(services: Services, settings,
                                                     campaign_slug: str, committed_db):
    """PostgreSQL refuses to wait for a lock held elsewhere: the supporter sees the page again,
    with what they typed, and a 503 telling them to send again."""
    from dataclasses import replace

    own = Services(replace(settings, db_lock_timeout_ms=200))
    try:
        with own.engine.connect() as warm:  # the campaign page's own reads work
            warm.execute(sa.text("SELECT 1"))
        client = store_app(own).test_client()
        page = client.get(f"/c/{campaign_slug}").get_data(as_text=True)
        with services.engine.connect() as blocker:
            blocker.execute(sa.text("LOCK TABLE supporters IN ACCESS EXCLUSIVE MODE"))
            response = client.post(f"/c/{campaign_slug}/act", data={
                **FORM, "email": "kept@example.org", "csrf_token": token_of(page)})
            blocker.rollback()
    finally:
        own.close()
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    body = response.get_data(as_text=True)
    assert 'role="alert"' in body and "send again" in body
    for typed in ("Mei", "Chan", "kept@example.org", FORM["message"]):
        assert typed in body


@pytest.mark.parametrize("locale,words", [("en", "belongs to an earlier lookup"),
                                          ("zh-Hant", "不屬於郵遞區號 94103")])
def test_a_district_chosen_for_another_zip_is_refused_by_its_field(
        client: FlaskClient, store: Services, locale: str, words: str):  # noqa: F811
    """NY-12 was chosen for 10001; then the supporter looked up 94103 (San Francisco)."""
    page = client.get(f"/c/{SLUG}?zip=10001&district=12&lang={locale}").get_data(as_text=True)
    response = timed_post(client, f"/c/{SLUG}/act", data={
        **FORM, "zip": "94103", "district": "12", "locale": locale, "email": "split@example.org",
        "csrf_token": token_of(page)})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert words in body and 'role="alert"' in body
    assert 'name="district" id="chosen-district" value=""' in body  # chosen again, not kept
    assert FORM["message"] in body
    assert stored_message(store, "split@example.org") is None
    api = client.post(f"/api/v1/campaigns/{SLUG}/actions",
                      json={**FORM, "zip": "94103", "district": "12", "email": "s@example.org"})
    assert api.status_code == 422 and api.get_json()["error"]["field"] == "district"
    ok = client.post(f"/api/v1/campaigns/{SLUG}/actions",
                     json={**FORM, "zip": "10001", "district": "12", "email": "s@example.org"})
    assert ok.status_code == 202


def test_i_called_is_recorded_once_and_counted(client: FlaskClient, store: Services):  # noqa: F811
    from actionwave.calls.services import count_calls

    page = client.get(f"/c/{SLUG}?lang=zh-Hant").get_data(as_text=True)
    response = timed_post(client, f"/c/{SLUG}/act", data={
        **FORM, "locale": "zh-Hant", "email": "caller@example.org", "csrf_token": token_of(page)})
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "致電這個辦公室" in thanks and "H.R. 2661" in thanks  # the call script, in Chinese
    action = re.search(r"action=([0-9a-f-]+)", response.headers["Location"]).group(1)
    for _ in range(2):  # pressed twice: one call
        called = client.post(f"/c/{SLUG}/status/{action}/called", data={
            "bioguide_id": "H001096", "locale": "zh-Hant", "csrf_token": token_of(thanks)})
        assert called.status_code == 303 and "lang=zh-Hant" in called.headers["Location"]
    status = client.get(called.headers["Location"]).get_data(as_text=True)
    assert status.count("您的來電已記錄") == 1
    refused = client.post(f"/c/{SLUG}/status/{action}/called", data={
        "bioguide_id": "S000522", "csrf_token": token_of(thanks)})  # New Jersey's, not theirs
    assert refused.status_code == 400
    with store.session() as session:
        campaign_id = session.scalar(select(Action.campaign_id).where(
            Action.id == uuid.UUID(action)))
        assert count_calls(session, campaign_id) == 1


def test_language_switch_without_javascript_keeps_what_was_typed_and_stores_nothing(
        client: FlaskClient, store: Services):  # noqa: F811
    page = client.get(f"/c/{SLUG}?zip=82001").get_data(as_text=True)
    assert 'formaction="/c/' in page and 'value="zh-Hant"' in page
    typed = {**FORM, "email": "switch@example.org", "district": ""}
    response = client.post(f"/c/{SLUG}/lang", data={**typed, "lang": "zh-Hant",
                                                    "csrf_token": token_of(page)})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert '<html lang="zh-Hant">' in body and "送出我的訊息" in body
    assert FORM["message"] in body and 'value="switch@example.org"' in body
    assert "Barrasso" in body  # the lookup too
    assert stored_message(store, "switch@example.org") is None
    # The page's relative links lead back to the campaign page.
    back = client.get(f"/c/{SLUG}/lang?lang=en&zip=82001")
    assert back.status_code == 302 and back.headers["Location"].endswith(
        f"/c/{SLUG}?lang=en&zip=82001")
    # No token, or no language of ours: refused by the field, never a 500.
    assert client.post(f"/c/{SLUG}/lang", data={**typed, "lang": "zh-Hant"}).status_code == 400
    bad = client.post(f"/c/{SLUG}/lang", data={**typed, "lang": "fr",
                                               "csrf_token": token_of(page)})
    assert bad.status_code == 400 and "lang" in bad.get_data(as_text=True)
