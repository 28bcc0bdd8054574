"""The organizer console over HTTP: who may see and change what, CSRF, sign-in and its throttle."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from actionwave.accounts import throttle
from actionwave.accounts.services import create_api_token, create_user
from actionwave.core.models import Action, Campaign, Delivery, Supporter
from actionwave.mail.consent import grant_consent
from web.console.auth import SESSION_KEY

PASSWORD = "correct horse battery"

PAGES = ["/console/", "/console/dashboard/live", "/console/deliveries", "/console/supporters",
         "/console/supporters.csv", "/console/tokens"]
# (path, the least role that may post)
CHANGES = [("/console/deliveries/1/retry", "organizer"), ("/console/supporters/1/erase", "admin"),
           ("/console/tokens", "admin"), ("/console/tokens/1/revoke", "admin")]


@pytest.fixture
def accounts(committed_db, campaign_slug):  # type: ignore[no-untyped-def]
    """A viewer, an organizer and an admin; the campaigns loaded (the console shows one)."""
    with committed_db.session() as session:
        for role in ("viewer", "organizer", "admin"):
            create_user(session, f"{role}@example.org", PASSWORD, role)
    return committed_db


def csrf(client) -> str:  # type: ignore[no-untyped-def]
    with client.session_transaction() as session:
        return session.setdefault("csrf_token", "test-csrf-token")


def sign_in(client, role: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/console/login", data={"email": f"{role}@example.org",
                                               "password": password, "csrf_token": csrf(client)})


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_is_sent_to_sign_in(client, accounts, path: str):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/console/login?next=")


@pytest.mark.parametrize("path", [path for path, _ in CHANGES] + ["/console/logout"])
def test_anonymous_cannot_post(client, accounts, path: str):
    response = client.post(path, data={"csrf_token": csrf(client)})
    assert response.status_code == 302 and "/console/login" in response.headers["Location"]


@pytest.mark.parametrize(("path", "role"), CHANGES)
def test_viewer_cannot_change_anything(client, accounts, path: str, role: str):
    sign_in(client, "viewer")
    assert client.post(path, data={"csrf_token": csrf(client)}).status_code == 403
    if role == "admin":
        sign_in(client, "organizer")
        assert client.post(path, data={"csrf_token": csrf(client)}).status_code == 403


def test_viewer_sees_pages_but_not_the_export_or_tokens(client, accounts):
    sign_in(client, "viewer")
    for path in ("/console/", "/console/deliveries", "/console/supporters"):
        assert client.get(path).status_code == 200, path
    assert client.get("/console/supporters.csv").status_code == 403
    assert client.get("/console/tokens").status_code == 403


@pytest.mark.parametrize("path", [path for path, _ in CHANGES] + ["/console/logout"])
def test_every_post_needs_the_csrf_token(client, accounts, path: str):
    sign_in(client, "admin")
    assert client.post(path, data={}).status_code == 400
    assert client.post(path, data={"csrf_token": "forged"}).status_code == 400


def test_sign_in_needs_the_csrf_token(client, accounts):
    response = client.post("/console/login", data={"email": "admin@example.org",
                                                   "password": PASSWORD})
    assert response.status_code == 400


def test_sign_in_replaces_the_session_and_sign_out_kills_it(client, accounts):
    csrf_before = csrf(client)
    response = sign_in(client, "organizer")
    assert response.status_code == 302 and response.headers["Location"].startswith("/console/")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    with client.session_transaction() as session:
        session_id = session[SESSION_KEY]
        assert session.get("csrf_token") != csrf_before  # a fresh token after sign-in
    assert client.get("/console/").status_code == 200
    client.post("/console/logout", data={"csrf_token": csrf(client)})
    assert client.get("/console/").status_code == 302
    with client.session_transaction() as session:
        session[SESSION_KEY] = session_id  # a copied cookie from before sign-out
    assert client.get("/console/").status_code == 302


def test_after_sign_in_the_organizer_returns_to_the_page_asked_for(client, accounts):
    response = client.post("/console/login", data={
        "email": "organizer@example.org", "password": PASSWORD, "csrf_token": csrf(client),
        "next": "https://evil.example/"})
    assert response.headers["Location"] == "/console/"
    response = client.post("/console/login", data={
        "email": "organizer@example.org", "password": PASSWORD, "csrf_token": csrf(client),
        "next": "/console/deliveries"})
    assert response.headers["Location"] == "/console/deliveries"


def test_repeated_failures_lock_the_account_with_a_clear_message(client, accounts):
    for _ in range(throttle.MAX_PER_PAIR):
        assert sign_in(client, "admin", "wrong password!").status_code == 401
    locked = sign_in(client, "admin")
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.get_data(as_text=True)
    zh = client.post("/console/login?lang=zh-Hant", data={
        "email": "admin@example.org", "password": PASSWORD, "csrf_token": csrf(client)})
    assert "登入失敗次數太多" in zh.get_data(as_text=True)


def test_bearer_token_is_refused_with_json_when_unknown(client, accounts):
    response = client.get("/console/", headers={"Authorization": "Bearer aw_nope"})
    assert response.status_code == 401
    assert response.get_json()["error"]["field"] == "Authorization"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_bearer_token_opens_no_console_page(client, accounts):
    # API tokens are for /api/v1 only (tests/security/test_tokens.py has the whole rule).
    with accounts.session() as session:
        _row, organizer = create_api_token(session, "ops", "organizer")
    assert client.get("/console/", headers={"Authorization": f"Bearer {organizer}"}
                      ).status_code == 401
    path = "/console/deliveries/999/retry"
    assert client.post(path, headers={"Authorization": f"Bearer {organizer}"}).status_code == 401


def test_organizer_retries_a_dead_delivery(client, accounts):
    with accounts.session() as session:
        campaign_id = session.scalar(select(Campaign.id).order_by(Campaign.id))
        delivery = Delivery(campaign_id=campaign_id, channel="email",
                            recipient="office@example.org", state="dead",
                            attempts=8, last_error="550 mailbox unavailable",
                            idempotency_key="dead-1")
        session.add(delivery)
        session.commit()
        delivery_id = delivery.id
    sign_in(client, "organizer")
    page = client.get("/console/deliveries?state=dead").get_data(as_text=True)
    assert "550 mailbox unavailable" in page and f"/console/deliveries/{delivery_id}/retry" in page
    response = client.post(f"/console/deliveries/{delivery_id}/retry",
                           data={"csrf_token": csrf(client), "state": "dead"})
    assert response.status_code == 302 and "state=dead" in response.headers["Location"]
    with accounts.session() as session:
        retried = session.get(Delivery, delivery_id)
        assert (retried.state, retried.attempts) == ("pending", 0)


def test_admin_searches_exports_and_erases_a_supporter(client, accounts):
    with accounts.session() as session:
        campaign = Campaign(slug="c", title="C")
        supporter = Supporter(email="mei@example.org", first_name="Mei", last_name="Chan",
                              zip="82001", state="WY")
        session.add_all([campaign, supporter])
        session.flush()
        grant_consent(session, supporter.id, campaign.id, source="import")
        session.commit()
        supporter_id = supporter.id
    sign_in(client, "admin")
    listed = client.get("/console/supporters?q=8200&campaign=c").get_data(as_text=True)
    assert "mei@example.org" in listed and "given " in listed  # with their consent to C
    assert "mei@example.org" not in client.get("/console/supporters").get_data(as_text=True)
    export = client.get("/console/supporters.csv?campaign=c")
    assert export.mimetype == "text/csv" and "attachment" in export.headers["Content-Disposition"]
    assert "mei@example.org,Mei,Chan" in export.get_data(as_text=True)
    assert ",given," in export.get_data(as_text=True)
    client.post(f"/console/supporters/{supporter_id}/erase", data={"csrf_token": csrf(client)})
    assert "mei@example.org" not in client.get(
        "/console/supporters?campaign=c").get_data(as_text=True)
    with accounts.session() as session:
        assert session.get(Supporter, supporter_id).first_name == ""


def test_admin_creates_a_token_shown_once(client, accounts):
    sign_in(client, "admin")
    page = client.post("/console/tokens", data={"csrf_token": csrf(client), "name": "ci",
                                                "role": "viewer"}).get_data(as_text=True)
    assert 'id="new-token">aw_' in page
    assert 'id="new-token"' not in client.get("/console/tokens").get_data(as_text=True)


def test_pages_speak_traditional_chinese(client, accounts):
    sign_in(client, "viewer")
    page = client.get("/console/?lang=zh-Hant").get_data(as_text=True)
    assert "投遞漏斗" in page and 'lang="zh-Hant"' in page


def test_every_list_and_count_is_of_the_chosen_campaign(client, accounts):
    """Ann acted on the first campaign (California), Bo on the second (New York)."""
    with accounts.session() as session:
        campaigns = dict(session.execute(select(Campaign.slug, Campaign.id)).all())
        for name, state, slug in (("ann", "CA", "hketo-certification-act"),
                                  ("bo", "NY", "test-second-campaign")):
            person = Supporter(email=f"{name}@example.org", first_name=name, last_name="L",
                               zip="10001", state=state)
            session.add(person)
            session.flush()
            session.add(Action(campaign_id=campaigns[slug], supporter_id=person.id,
                               idempotency_key=name))
            session.add(Delivery(campaign_id=campaigns[slug], channel="email", state="dead",
                                 recipient="office@example.org", idempotency_key=f"d-{name}",
                                 last_error=f"550 gone: {name}"))
        session.commit()
    sign_in(client, "viewer")
    for query, mine, theirs in (("", "ann", "bo"), ("?campaign=test-second-campaign", "bo", "ann")):
        people = client.get(f"/console/supporters{query}").get_data(as_text=True)
        assert f"{mine}@example.org" in people and f"{theirs}@example.org" not in people
        dead = client.get(f"/console/deliveries{query}").get_data(as_text=True)
        assert f"550 gone: {mine}" in dead and f"550 gone: {theirs}" not in dead
    dashboard = client.get("/console/?campaign=test-second-campaign").get_data(as_text=True)
    assert '<th scope="row">NY</th>' in dashboard and '<th scope="row">CA</th>' not in dashboard
    assert 'name="campaign"' in dashboard  # the switch between the two
    live = client.get("/console/dashboard/live?campaign=test-second-campaign")
    assert '<th scope="row">CA</th>' not in live.get_data(as_text=True)
