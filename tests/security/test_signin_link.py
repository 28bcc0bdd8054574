"""Finding (the second half of point 5): after an account-wide lockout, sign-in worked only from
the account's recent good addresses. Now a locked organizer can ask for a one-time link mailed
to the account's own address: valid 15 minutes, used once, stored only as a digest, audited;
using it signs in and clears the lock. Asking answers the same for any address, and at most
three links an hour are made per account."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from actionwave.accounts import throttle
from actionwave.accounts.models import AuditEntry, SigninLink
from actionwave.accounts.services import sign_in
from actionwave.accounts.signin_links import MAX_PER_HOUR
from actionwave.core.models import Delivery
from actionwave.delivery.engine import deliver_due
from actionwave.delivery.mailing import MAIL_CHANNEL, MailSender
from actionwave.delivery.policy import DeliveryPolicy
from actionwave.platform.logs import loggable_path
from actionwave.platform.ratelimit import LocalRateLimiter
from tests.organizer_support import PASSWORD, sqlite_services, store, store_app  # noqa: F401

EMAIL = "organizer@example.org"
LINK = re.compile(r"/console/login/link/([A-Za-z0-9_-]+)")


def csrf(client) -> str:  # type: ignore[no-untyped-def]
    with client.session_transaction() as session:
        return session.setdefault("csrf_token", "test-csrf-token")


def lock_the_account(store) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    with store.session() as session:
        throttle.record_failure(session, [throttle.account_key(EMAIL)] * throttle.MAX_PER_ACCOUNT)


def mailed_links(store) -> list[str]:  # type: ignore[no-untyped-def]  # noqa: F811
    with store.session() as session:
        texts = session.scalars(select(Delivery.payload).where(Delivery.recipient == EMAIL)
                                .order_by(Delivery.id)).all()
    return [LINK.search(payload["mail"]["text"]).group(1) for payload in texts]


def test_a_locked_organizer_signs_in_with_a_mailed_one_time_link(store):  # noqa: F811
    lock_the_account(store)
    client = store_app(store).test_client()
    locked = client.post("/console/login", data={"email": EMAIL, "password": PASSWORD,
                                                 "csrf_token": csrf(client)})
    assert locked.status_code == 429
    assert 'action="/console/login/link"' in locked.get_data(as_text=True)

    assert client.post("/console/login/link", data={"email": EMAIL}).status_code == 400  # CSRF
    sent = client.post("/console/login/link", data={"email": EMAIL, "csrf_token": csrf(client)})
    unknown = client.post("/console/login/link", data={"email": "nobody@example.org",
                                                       "csrf_token": csrf(client)})
    assert sent.status_code == unknown.status_code == 200
    notice = re.compile(r'<p class="notice"[^>]*>([^<]*)</p>')
    assert notice.search(sent.get_data(as_text=True)).group(1) == notice.search(
        unknown.get_data(as_text=True)).group(1)  # no telling which accounts exist
    [token] = mailed_links(store)
    # The mail goes out as every other mail does: here the dev outbox (no SendGrid key).
    outbox = store.settings.instance_path / "outbox"
    before = set(outbox.glob("*.eml")) if outbox.exists() else set()
    deliver_due(store.session_factory, MAIL_CHANNEL, MailSender(store.mailer), LocalRateLimiter(),
                DeliveryPolicy.from_settings(store.settings), "test-worker")
    [mail] = set(outbox.glob("*.eml")) - before
    message = email.message_from_bytes(mail.read_bytes(), policy=email.policy.default)
    assert message["To"] == EMAIL
    assert f"/console/login/link/{token}" in message.get_body().get_content()
    with store.session() as session:
        link = session.scalars(select(SigninLink)).one()
        assert link.token_hash != token and token not in link.token_hash
    assert loggable_path(f"/console/login/link/{token}") == "/console/login/link/<token>"

    other = store_app(store).test_client()  # the mail is opened in another browser
    page = other.get(f"/console/login/link/{token}")
    assert page.status_code == 200 and other.get("/console/").status_code == 302  # not yet
    assert other.post(f"/console/login/link/{token}", data={}).status_code == 400  # CSRF
    used = other.post(f"/console/login/link/{token}", data={"csrf_token": csrf(other)})
    assert used.status_code == 302 and other.get("/console/").status_code == 200
    again = store_app(store).test_client()
    assert again.post(f"/console/login/link/{token}",
                      data={"csrf_token": csrf(again)}).status_code == 400  # used once
    with store.session() as session:
        user, _sid = sign_in(session, EMAIL, PASSWORD, "a-new-cafe")  # the lock is cleared
        actions = session.scalars(select(AuditEntry.action)).all()
    assert user.email == EMAIL
    assert actions.count("signin_link.request") == 1 and actions.count("signin_link.use") == 1


def test_links_expire_are_limited_per_account_and_need_an_email(store):  # noqa: F811
    client = store_app(store).test_client()
    for _ in range(MAX_PER_HOUR + 2):
        assert client.post("/console/login/link", data={
            "email": EMAIL, "csrf_token": csrf(client)}).status_code == 200
    links = mailed_links(store)
    assert len(links) == MAX_PER_HOUR
    with store.session() as session:
        session.execute(update(SigninLink).values(
            expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        session.commit()
    assert client.post(f"/console/login/link/{links[0]}",
                       data={"csrf_token": csrf(client)}).status_code == 400  # expired
    bad = client.post("/console/login/link", data={"email": "not an address",
                                                   "csrf_token": csrf(client)})
    assert bad.status_code == 400 and 'aria-invalid="true"' in bad.get_data(as_text=True)
    assert "Email" in bad.get_data(as_text=True)


def test_the_link_page_speaks_traditional_chinese(store):  # noqa: F811
    lock_the_account(store)
    client = store_app(store).test_client()
    locked = client.post("/console/login?lang=zh-Hant", data={
        "email": EMAIL, "password": PASSWORD, "csrf_token": csrf(client), "locale": "zh-Hant"})
    assert "寄給我登入連結" in locked.get_data(as_text=True)
    sent = client.post("/console/login/link", data={"email": EMAIL, "locale": "zh-Hant",
                                                    "csrf_token": csrf(client)})
    assert "登入連結已在寄出途中" in sent.get_data(as_text=True)
    with store.session() as session:
        [payload] = session.scalars(select(Delivery.payload)).all()
    assert payload["mail"]["subject"] == "您的 Actionwave 登入連結"
