"""The signed unsubscribe page and RFC 8058 one-click unsubscribe."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from itsdangerous import URLSafeSerializer
from sqlalchemy import delete

from actionwave.config import Settings
from actionwave.mail.unsubscribe import (
    list_unsubscribe_headers,
    read_unsubscribe_token,
    unsubscribe_token,
)
from actionwave.models import Supporter
from actionwave.services import Services


@pytest.fixture
def supporter_id(services: Services) -> Iterator[int]:
    with services.session() as session:
        person = Supporter(email="unsub@example.com", first_name="Ann", last_name="Lee",
                           zip="10001")
        session.add(person)
        session.commit()
        ident = person.id
    yield ident
    with services.session() as session:
        session.execute(delete(Supporter).where(Supporter.id == ident))
        session.commit()


def unsubscribed(services: Services, ident: int) -> bool:
    with services.session() as session:
        person = session.get(Supporter, ident)
        return person is not None and person.unsubscribed_at is not None


def test_tokens_round_trip_and_forgeries_fail(settings: Settings) -> None:
    token = unsubscribe_token(settings, 42)
    assert read_unsubscribe_token(settings, token) == 42
    assert read_unsubscribe_token(settings, token[:-2] + "xx") is None


@pytest.mark.parametrize("ident", [1, 42, 99_999, 1_000_000, 123_456_789, 999_999_999_999])
def test_tokens_are_those_already_sent_in_mails(settings: Settings, ident: int) -> None:
    # Made by itsdangerous's own serializer, as before its compression step was skipped.
    sent = URLSafeSerializer(settings.secret_key, salt="actionwave.unsubscribe").dumps(ident)
    assert unsubscribe_token(settings, ident) == sent
    assert read_unsubscribe_token(settings, sent) == ident


def test_page_shows_the_address_without_unsubscribing(client: FlaskClient, settings: Settings,
                                                      services: Services,
                                                      supporter_id: int) -> None:
    page = client.get(f"/u/{unsubscribe_token(settings, supporter_id)}")
    assert page.status_code == 200 and b"unsub@example.com" in page.data
    assert not unsubscribed(services, supporter_id)


def test_button_unsubscribes(client: FlaskClient, settings: Settings, services: Services,
                             supporter_id: int) -> None:
    page = client.post(f"/u/{unsubscribe_token(settings, supporter_id)}")
    assert page.status_code == 200 and b'id="unsubscribed"' in page.data
    assert unsubscribed(services, supporter_id)


def test_one_click_post_from_the_header_unsubscribes(client: FlaskClient, settings: Settings,
                                                     services: Services,
                                                     supporter_id: int) -> None:
    header = list_unsubscribe_headers(settings, supporter_id)["List-Unsubscribe"]
    url = header.split(", ")[0].strip("<>").removeprefix(settings.public_url)
    answer = client.post(url, data="List-Unsubscribe=One-Click",
                         content_type="application/x-www-form-urlencoded")
    assert answer.status_code == 200
    assert unsubscribed(services, supporter_id)
    assert client.post(url, data="List-Unsubscribe=One-Click").status_code == 200  # idempotent


def test_forged_token_is_not_found(client: FlaskClient, supporter_id: int) -> None:
    assert client.get("/u/not-a-token").status_code == 404
    assert client.post("/u/not-a-token").status_code == 404


def test_page_in_traditional_chinese(client: FlaskClient, settings: Settings,
                                     supporter_id: int) -> None:
    page = client.get(f"/u/{unsubscribe_token(settings, supporter_id)}?lang=zh-Hant")
    assert "取消所有電郵" in page.get_data(as_text=True)
