"""Finding: a bearer API token worked as a full console login without CSRF, /metrics needed an
admin token, and a disabled user's tokens kept working. Tokens now open /api/v1 only, within
their scopes and expiry; /metrics has its own scrape token; every use is audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from actionwave.accounts.models import ApiToken, User
from actionwave.accounts.services import create_api_token, create_user
from tests.conftest import METRICS_TOKEN
from tests.organizer_support import PASSWORD, sqlite_services, store, store_app  # noqa: F401
from tests.test_console import csrf, sign_in


def _token(services, role="admin", **options):  # type: ignore[no-untyped-def]
    with services.session() as session:
        owner = session.scalar(select(User.id).where(User.email == f"{role}@example.org"))
        if owner is None:
            owner = create_user(session, f"{role}@example.org", PASSWORD, role).id
        return create_api_token(session, f"{role} script", role, owner, **options)[1]


def test_an_api_token_opens_no_console_page_and_no_console_post(store):  # noqa: F811
    client = store_app(store).test_client()
    bearer = {"Authorization": f"Bearer {_token(store)}"}
    assert client.get("/api/v1/waves", headers=bearer).status_code == 200
    for path in ("/console/", "/console/tokens", "/console/supporters.csv"):
        assert client.get(path, headers=bearer).status_code == 401, path
    minted = client.post("/console/tokens", headers=bearer, data={"name": "x", "role": "admin"})
    assert minted.status_code == 401
    with store.session() as session:
        assert session.scalar(select(ApiToken).where(ApiToken.name == "x")) is None


def test_a_token_does_only_what_its_scopes_allow_until_it_expires(store):  # noqa: F811
    client = store_app(store).test_client()
    read_only = {"Authorization": f"Bearer {_token(store, scopes=['read'])}"}
    assert client.get("/api/v1/waves", headers=read_only).status_code == 200
    refused = client.post("/api/v1/waves", headers=read_only, json={"campaign": "x"})
    assert refused.status_code == 403 and "write" in refused.get_json()["error"]["message"]
    secret = _token(store, "organizer", expires_at=datetime.now(UTC) + timedelta(days=1))
    with store.session() as session:
        session.execute(update(ApiToken).where(ApiToken.name == "organizer script")
                        .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        session.commit()
    assert client.get("/api/v1/waves", headers={"Authorization": f"Bearer {secret}"}
                      ).status_code == 401


def test_metrics_take_the_scrape_token_never_an_api_token(store):  # noqa: F811
    client = store_app(store).test_client()
    admin = {"Authorization": f"Bearer {_token(store)}"}
    assert client.get("/metrics", headers=admin).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
                      ).status_code == 200


def test_disabling_a_user_ends_their_sessions_and_revokes_their_tokens(store):  # noqa: F811
    from actionwave.accounts.services import disable_user

    client = store_app(store).test_client()
    bearer = {"Authorization": f"Bearer {_token(store, 'organizer')}"}
    sign_in(client, "organizer")
    assert client.get("/console/").status_code == 200
    assert client.get("/api/v1/waves", headers=bearer).status_code == 200
    with store.session() as session:
        assert disable_user(session, "organizer@example.org")
    assert client.get("/console/").status_code == 302
    assert client.get("/api/v1/waves", headers=bearer).status_code == 401


def test_tokens_are_audited_and_the_page_shows_the_last_use(store):  # noqa: F811
    from actionwave.accounts.models import AuditEntry

    app = store_app(store)
    client = app.test_client()
    _token(store)  # the admin account
    sign_in(client, "admin")
    made = client.post("/console/tokens", data={
        "csrf_token": csrf(client), "name": "nightly export", "role": "viewer",
        "scopes": ["read"], "expires": "2099-01-01"})
    secret = made.get_data(as_text=True).split('id="new-token">')[1].split("<")[0]
    api = app.test_client()
    for _ in range(5):  # used five times in a minute: one recorded use, one write
        assert api.get("/api/v1/waves", headers={"Authorization": f"Bearer {secret}"}
                       ).status_code == 200
    with store.session() as session:
        token = session.scalar(select(ApiToken).where(ApiToken.name == "nightly export"))
        assert token.scopes == "read" and token.last_used_at is not None
        assert token.expires_at is not None
    client.post(f"/console/tokens/{token.id}/revoke", data={"csrf_token": csrf(client)})
    with store.session() as session:
        trail = session.execute(select(AuditEntry.actor, AuditEntry.action)
                                .order_by(AuditEntry.id)).all()
    mine = [(actor, action) for actor, action in trail if action != "token.create"
            or actor.startswith("user:")]
    assert mine == [("user:admin@example.org", "token.create"),
                    ("token:nightly export", "token.use"),
                    ("user:admin@example.org", "token.revoke")]
    page = client.get("/console/tokens").get_data(as_text=True)
    assert token.last_used_at.strftime("%Y-%m-%d %H:%M") in page and "2099-01-01" in page
