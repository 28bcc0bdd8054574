"""POST /webhooks/sendgrid: signed with ECDSA, each event stored once, bounces suppress."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select

from actionwave.core.models import Supporter
from actionwave.mail.events import event_counts
from actionwave.mail.models import MailEvent
from actionwave.platform.config import Settings
from actionwave.system.services import Services

PRIVATE = ec.generate_private_key(ec.SECP256R1())
PUBLIC = base64.b64encode(PRIVATE.public_key().public_bytes(
    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()


@pytest.fixture
def hook_client(settings: Settings, services: Services) -> Iterator[FlaskClient]:
    from web import create_app

    signed = replace(settings, sendgrid_webhook_public_key=PUBLIC)
    app: Flask = create_app(signed, Services(signed))
    app.config["TESTING"] = True
    yield app.test_client()
    app.extensions["actionwave"].close()
    with services.session() as session:
        session.execute(delete(MailEvent))
        session.execute(delete(Supporter).where(Supporter.email.like("%@hook.example.com")))
        session.commit()


def signed_post(client: FlaskClient, events: Any, *, timestamp: int | None = None,
                key: ec.EllipticCurvePrivateKey = PRIVATE) -> Any:
    payload = json.dumps(events)
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    signature = key.sign((stamp + payload).encode(), ec.ECDSA(hashes.SHA256()))
    return client.post("/webhooks/sendgrid", data=payload, content_type="application/json",
                       headers={"X-Twilio-Email-Event-Webhook-Signature":
                                base64.b64encode(signature).decode(),
                                "X-Twilio-Email-Event-Webhook-Timestamp": stamp})


def event(kind: str, email: str, **extra: Any) -> dict[str, Any]:
    return {"email": email, "event": kind, "sg_event_id": uuid.uuid4().hex,
            "timestamp": int(time.time()), "aw_key": "confirmation:1", **extra}


def supporter(services: Services, email: str) -> None:
    with services.session() as session:
        session.add(Supporter(email=email, first_name="A", last_name="B", zip="10001"))
        session.commit()


def test_signed_events_are_stored_and_counted(hook_client: FlaskClient,
                                              services: Services) -> None:
    events = [event("delivered", "a@hook.example.com"), event("open", "a@hook.example.com"),
              event("open", "a@hook.example.com")]
    answer = signed_post(hook_client, events)
    assert answer.status_code == 200 and answer.json["stored"] == 3
    with services.session() as session:
        assert event_counts(session, "confirmation:1") == {"delivered": 1, "open": 2}


def test_replayed_events_are_stored_once(hook_client: FlaskClient, services: Services) -> None:
    events = [event("delivered", "a@hook.example.com")]
    signed_post(hook_client, events)
    again = signed_post(hook_client, events)
    assert again.status_code == 200 and again.json == {"stored": 0, "repeated": 1,
                                                        "skipped": 0, "suppressed": 0}


@pytest.mark.parametrize("kind", ["bounce", "dropped", "spamreport"])
def test_bounce_drop_and_spam_report_suppress_the_address(hook_client: FlaskClient,
                                                          services: Services, kind: str) -> None:
    supporter(services, f"{kind}@hook.example.com")
    signed_post(hook_client, [event(kind, f"{kind}@HOOK.example.com", reason="550 no user")])
    with services.session() as session:
        reason = session.scalar(select(Supporter.suppressed_reason)
                                .where(Supporter.email == f"{kind}@hook.example.com"))
    assert reason == kind


def test_blocked_bounce_does_not_suppress(hook_client: FlaskClient, services: Services) -> None:
    supporter(services, "soft@hook.example.com")
    signed_post(hook_client, [event("bounce", "soft@hook.example.com", type="blocked")])
    with services.session() as session:
        assert session.scalar(select(Supporter.suppressed_reason)
                              .where(Supporter.email == "soft@hook.example.com")) is None


def test_unsigned_request_is_refused_with_401(hook_client: FlaskClient) -> None:
    answer = hook_client.post("/webhooks/sendgrid", json=[event("open", "a@hook.example.com")])
    assert answer.status_code == 401 and answer.json["error"]["field"] == "signature"


def test_wrong_signature_is_refused_with_403(hook_client: FlaskClient) -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    answer = signed_post(hook_client, [event("open", "a@hook.example.com")], key=other)
    assert answer.status_code == 403 and answer.json["error"]["field"] == "signature"


def test_old_timestamp_is_refused_as_a_replay(hook_client: FlaskClient) -> None:
    answer = signed_post(hook_client, [event("open", "a@hook.example.com")],
                         timestamp=int(time.time()) - 3600)
    assert answer.status_code == 403 and answer.json["error"]["field"] == "timestamp"


def test_tampered_body_is_refused(hook_client: FlaskClient) -> None:
    stamp = str(int(time.time()))
    signature = PRIVATE.sign((stamp + "[]").encode(), ec.ECDSA(hashes.SHA256()))
    answer = hook_client.post(
        "/webhooks/sendgrid", data=json.dumps([event("bounce", "x@hook.example.com")]),
        headers={"X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
                 "X-Twilio-Email-Event-Webhook-Timestamp": stamp})
    assert answer.status_code == 403


def test_webhook_without_a_configured_key_refuses_everything(client: FlaskClient) -> None:
    answer = signed_post(client, [event("open", "a@hook.example.com")])
    assert answer.status_code == 403
