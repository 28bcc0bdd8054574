"""Hostile and odd input at the public edges: limited, refused, or shown back harmlessly."""

from __future__ import annotations

import base64
import json
import re
import time
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import redis
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from flask.testing import FlaskClient

from actionwave.accounts.services import create_user
from actionwave.core.models import Supporter
from actionwave.mail.confirmation import build_confirmation
from actionwave.platform.config import Settings, SettingsError
from actionwave.system.services import Services
from tests.test_console import PASSWORD, sign_in
from web.ratelimit import TOO_MANY

ROOT = Path(__file__).resolve().parents[1]


def person(email: str | None = None, **extra: str) -> dict[str, str]:
    return {"email": email or f"{uuid.uuid4().hex[:10]}@example.org", "first_name": "Kit",
            "last_name": "Wong", "zip": "60601", **extra}


def limited_app(settings: Settings, services: Services, **changes: object) -> Flask:
    """An app with the abuse limits on, counting under a namespace of its own."""
    from web import create_app

    changes.setdefault("namespace", f"{settings.namespace}-{uuid.uuid4().hex[:6]}")
    changes = {"rate_limit_per_ip": "3/minute", "rate_limit_per_email": "2/hour", **changes}
    limited = replace(settings, **changes)
    app = create_app(limited, services)
    app.config["TESTING"] = True
    return app


def as_client(app: Flask, ip: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client


@pytest.fixture
def url(campaign_slug: str, committed_db: Services) -> str:
    return f"/api/v1/campaigns/{campaign_slug}/actions"


def test_per_ip_limit_answers_429_with_retry_after_and_a_json_error(settings, services, url):
    client = as_client(limited_app(settings, services), "10.0.0.1")
    assert [client.post(url, json=person()).status_code for _ in range(3)] == [202] * 3
    refused = client.post(url, json=person())
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 61
    assert refused.get_json() == {"error": {"field": None, "message": TOO_MANY}}
    assert as_client(client.application, "10.0.0.2").post(url, json=person()).status_code == 202


def test_per_email_limit_holds_across_addresses(settings, services, url):
    app = limited_app(settings, services)
    email = "same@example.org"
    assert as_client(app, "10.0.1.1").post(url, json=person(email)).status_code == 202
    assert as_client(app, "10.0.1.2").post(url, json=person(email)).status_code == 202
    assert as_client(app, "10.0.1.3").post(url, json=person(email.upper())).status_code == 429


def test_limits_are_shared_by_processes_through_redis_under_hashed_keys(
        settings, services, url, redis_client: redis.Redis):
    # Two apps, each with its own limiter, like two gunicorn processes: only Redis is shared.
    namespace = f"{settings.namespace}-shared-{uuid.uuid4().hex[:6]}"
    first = limited_app(replace(settings, namespace=namespace), services, namespace=namespace)
    second = limited_app(replace(settings, namespace=namespace), services, namespace=namespace)
    for app in (first, second, first):
        assert as_client(app, "10.0.2.1").post(url, json=person()).status_code == 202
    assert as_client(second, "10.0.2.1").post(url, json=person("x@example.org")).status_code == 429
    keys = b" ".join(redis_client.keys("*")).decode(errors="replace")
    assert "10.0.2.1" not in keys and "x@example.org" not in keys


def test_form_post_is_limited_too(settings, services, campaign_slug, committed_db):
    client = as_client(limited_app(settings, services), "10.0.3.1")
    statuses = [client.post(f"/c/{campaign_slug}/act", data=person()).status_code
                for _ in range(4)]
    assert statuses[:3] == [400, 400, 400]  # no CSRF token: refused, but still counted
    assert statuses[3] == 429


def test_forwarded_for_is_ignored_unless_proxies_are_trusted(settings, services, url):
    untrusting = as_client(limited_app(settings, services), "10.0.4.1")
    statuses = [untrusting.post(url, json=person(), headers={"X-Forwarded-For": f"1.2.3.{i}"})
                .status_code for i in range(4)]
    assert statuses == [202, 202, 202, 429]
    trusting = as_client(limited_app(settings, services, trusted_proxies=1), "10.0.4.2")
    statuses = [trusting.post(url, json=person(), headers={"X-Forwarded-For": f"1.2.3.{i}"})
                .status_code for i in range(4)]
    assert statuses == [202] * 4


def test_limiter_lets_supporters_through_when_redis_is_down(settings, services, url):
    app = limited_app(settings, services, redis_url="redis://127.0.0.1:1/0")
    assert as_client(app, "10.0.5.1").post(url, json=person()).status_code == 202


# --- Refused or neutralised input -------------------------------------------------------------


@pytest.mark.parametrize("field", ["first_name", "last_name", "city", "address"])
@pytest.mark.parametrize("evil", ["Kit\r\nBcc: all@example.org", "Kit\nSubject: hi", "Kit\x00"])
def test_header_injection_in_single_line_fields_is_refused(client, url, field, evil):
    response = client.post(url, json=person(**{field: evil}))
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == field


def csrf_client(client: FlaskClient, slug: str) -> str:
    page = client.get(f"/c/{slug}").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the campaign page has a CSRF field"
    return match.group(1)


@pytest.mark.parametrize("text, literal", [
    ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ('"><img src=x onerror=alert(1)>', "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"),
    ("{{ 7*7 }}{% print(1) %}", "{{ 7*7 }}{% print(1) %}"),
])
def test_supporter_text_shown_back_on_the_page_stays_literal(client, campaign_slug,
                                                             committed_db, text, literal):
    token = csrf_client(client, campaign_slug)
    response = client.post(f"/c/{campaign_slug}/act",
                           data={**person("literal@example.org", first_name=text), "zip": "bad",
                                 "csrf_token": token})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    echoed = re.search(r'id="first_name"[^>]*value="([^"]*)"', body)
    assert echoed and echoed.group(1) == literal  # back exactly as typed, escaped, not evaluated
    assert text not in body or text == literal


def test_no_template_marks_data_as_safe():
    for template in (ROOT / "web" / "templates").rglob("*.html"):
        source = template.read_text()
        assert not re.search(r"\|\s*safe\b", source), f"{template} uses |safe"
        assert "autoescape false" not in source, f"{template} turns autoescape off"


def test_hostile_names_stay_literal_in_the_console_and_in_their_mail(client, url, committed_db,
                                                                     settings):
    """What a supporter typed reaches organizers as text (escaped in the console) and comes back
    in the confirmation as text: a plain-text mail, the name put in as a value, not run."""
    name = "<script>alert(1)</script>{{ 7*7 }}"
    action_id = client.post(url, json=person("hostile@example.org", first_name=name,
                                             last_name='"><img src=x onerror=alert(1)>')
                            ).get_json()["id"]
    with committed_db.session() as session:
        create_user(session, "viewer@example.org", PASSWORD, "viewer")
        mail = build_confirmation(session, settings, uuid.UUID(action_id))
    sign_in(client, "viewer")
    page = client.get("/console/supporters?q=hostile").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;{{ 7*7 }}" in page
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<script>alert" not in page and "<img src=x" not in page
    assert mail is not None and mail.html is None
    assert f"Thank you, {name}, for your message" in mail.text
    assert f"Thank you, {name}:" in mail.subject


def test_template_syntax_in_a_supporter_message_is_stored_literally(client, url, committed_db):
    message = "{{ config.SECRET_KEY }} {% for x in range(9) %}x{% endfor %}"
    action_id = client.post(url, json=person(message=message)).get_json()["id"]
    with committed_db.session() as session:
        from actionwave.core.models import Action

        assert session.get(Action, uuid.UUID(action_id)).message == message


@pytest.mark.parametrize("body, content_type, status", [
    (b"{not json", "application/json", 400),
    (b"[1, 2]", "application/json", 400),
    (b'"just a string"', "application/json", 400),
    (b'{"email": {"$ne": null}}', "application/json", 400),
    (b"\xff\xfe\x00{", "application/json", 400),
    (b"email=a@b.org", "text/plain", 415),
    (b"<action/>", "application/xml", 415),
    (b"", "", 415),
    (json.dumps(person(message="x" * 20_000)).encode(), "application/json", 413),
    (b"[" * 5000 + b"]" * 5000, "application/json", 400),
])
def test_bad_bodies_get_a_clear_json_4xx(client, url, body, content_type, status):
    response = client.post(url, data=body, content_type=content_type)
    assert response.status_code in (status, 422) and response.status_code < 500
    error = response.get_json()["error"]
    assert set(error) == {"field", "message"} and error["message"]


def test_unknown_campaign_is_a_404_on_the_api_and_the_page(client, committed_db):
    api = client.post("/api/v1/campaigns/no-such-campaign/actions", json=person())
    assert api.status_code == 404 and api.get_json()["error"]["field"] == "slug"
    page = client.post("/c/no-such-campaign/act", data=person())
    assert page.status_code == 404 and page.mimetype == "text/html"


@pytest.mark.parametrize("name", ["Kit\u202eg\u202cnoW", "Kit\u2066x\u2069"])
def test_text_direction_overrides_in_names_are_refused(client, url, name):
    response = client.post(url, json=person(last_name=name))
    assert response.status_code == 422 and response.get_json()["error"]["field"] == "last_name"


@pytest.mark.parametrize("field", ["first_name", "message", "email"])
def test_lone_surrogates_are_refused_by_field(client, url, field):
    # Valid JSON ("\\ud800" escapes), but no UTF-8 text: PostgreSQL would refuse to store it.
    body = json.dumps(person(**{field: "Kit\ud800@example.org"}))
    response = client.post(url, data=body, content_type="application/json")
    assert response.status_code == 422 and response.get_json()["error"]["field"] == field


@pytest.mark.parametrize("name", [
    "👩\u200d👩\u200d👧",  # family emoji: zero-width joiners belong to it
    "Zoë",
    "王小明",
    "עברית",
])
def test_real_names_in_any_script_are_kept(client, url, committed_db, name):
    action_id = client.post(url, json=person(first_name=name)).get_json()["id"]
    assert _first_name(committed_db, action_id) == name


def test_decomposed_names_are_stored_composed(client, url, committed_db):
    decomposed = unicodedata.normalize("NFD", "Zoë Ångström")
    action_id = client.post(url, json=person(first_name=decomposed)).get_json()["id"]
    assert _first_name(committed_db, action_id) == unicodedata.normalize("NFC", decomposed)


def _first_name(services: Services, action_id: str) -> str:
    from actionwave.core.models import Action

    with services.session() as session:
        action = session.get(Action, uuid.UUID(action_id))
        return session.get(Supporter, action.supporter_id).first_name


# --- Webhooks ---------------------------------------------------------------------------------

KEY = ec.generate_private_key(ec.SECP256R1())
PUBLIC = base64.b64encode(KEY.public_key().public_bytes(
    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()
SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"


@pytest.fixture
def hook(settings: Settings) -> Iterator[FlaskClient]:
    from web import create_app

    signed_settings = replace(settings, sendgrid_webhook_public_key=PUBLIC)
    hook_services = Services(signed_settings)
    yield create_app(signed_settings, hook_services).test_client()
    hook_services.close()


def signed(payload: bytes, stamp: int) -> dict[str, str]:
    signature = KEY.sign(str(stamp).encode() + payload, ec.ECDSA(hashes.SHA256()))
    return {SIGNATURE: base64.b64encode(signature).decode(), TIMESTAMP: str(stamp),
            "Content-Type": "application/json"}


def test_unsigned_webhook_is_refused(hook: FlaskClient):
    response = hook.post("/webhooks/sendgrid", json=[{"event": "bounce"}])
    assert response.status_code == 401 and response.get_json()["error"]["field"] == "signature"


def test_replayed_webhook_with_an_old_timestamp_is_refused(hook: FlaskClient):
    payload = b'[{"event": "bounce", "email": "a@example.org", "sg_event_id": "e1"}]'
    response = hook.post("/webhooks/sendgrid", data=payload,
                         headers=signed(payload, int(time.time()) - 3600))
    assert response.status_code == 403 and response.get_json()["error"]["field"] == "timestamp"


def test_webhook_with_a_tampered_body_is_refused(hook: FlaskClient):
    payload = b'[{"event": "delivered", "email": "a@example.org", "sg_event_id": "e2"}]'
    headers = signed(payload, int(time.time()))
    response = hook.post("/webhooks/sendgrid", data=payload.replace(b"delivered", b"bounce"),
                         headers=headers)
    assert response.status_code == 403 and response.get_json()["error"]["field"] == "signature"


def test_a_malformed_limit_names_its_setting(settings, services):
    with pytest.raises(SettingsError, match="RATE_LIMIT_PER_IP"):
        limited_app(settings, services, rate_limit_per_ip="lots")
