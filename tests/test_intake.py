"""The intake domain: validation and the one-transaction submit, without Flask or Celery."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from actionwave.campaigns.files import load_campaign
from actionwave.core.models import Action, Campaign, CampaignConsent, OutboxMessage, Supporter
from actionwave.intake.submissions import (
    FieldError,
    UnknownCampaign,
    parse_action_form,
    submit_action,
)
from actionwave.mail.consent import CONSENT_TEXT, withdraw_consent
from actionwave.platform.db import make_engine, make_session_factory
from actionwave.platform.migrate import upgrade
from tests.conftest import CAMPAIGN_FILE, SECOND_CAMPAIGN_FILE

VALID = {"email": "Mei@Example.ORG", "first_name": "Mei", "last_name": "Chan", "zip": "02139"}


@pytest.fixture(params=["postgresql", "sqlite"])
def db_session(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Session]:
    """Both storage paths: PostgreSQL's one-statement submit and SQLite's portable one."""
    if request.param == "postgresql":
        yield request.getfixturevalue("db_session")
        return
    url = f"sqlite:///{tmp_path / 'intake.db'}"
    upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        yield session
    engine.dispose()


@pytest.fixture
def slug(db_session: Session) -> str:
    return load_campaign(db_session, CAMPAIGN_FILE).slug


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_submission_is_stored_with_supporter_and_outbox_message(db_session: Session, slug: str):
    result = submit_action(db_session, slug, parse_action_form(VALID))
    assert result.created and result.status == "accepted"
    action = db_session.get(Action, result.action_id)
    assert action is not None
    supporter = db_session.get(Supporter, action.supporter_id)
    assert supporter.email == "Mei@example.org"  # domain lower-cased, local part kept
    outbox = db_session.scalars(select(OutboxMessage)).all()
    assert [(m.topic, m.ref) for m in outbox] == [("action.accepted", str(result.action_id))]


def test_same_submission_within_a_day_returns_the_existing_action(db_session: Session, slug: str):
    first = submit_action(db_session, slug, parse_action_form(VALID))
    same = parse_action_form({**VALID, "email": "mei@example.org"})
    again = submit_action(db_session, slug, same)
    assert again.action_id == first.action_id and not again.created
    assert count(db_session, Action) == 1 and count(db_session, OutboxMessage) == 1


def test_next_day_is_a_new_action_for_the_same_supporter(db_session: Session, slug: str):
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    first = submit_action(db_session, slug, parse_action_form(VALID), now=now)
    later = submit_action(db_session, slug, parse_action_form(VALID), now=now + timedelta(days=1))
    assert later.action_id != first.action_id
    assert count(db_session, Supporter) == 1


def consents(session: Session) -> list[CampaignConsent]:
    session.expire_all()
    return list(session.scalars(select(CampaignConsent).order_by(CampaignConsent.id)))


def test_consent_is_recorded_for_that_campaign_with_what_proves_it(db_session: Session, slug: str):
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    form = parse_action_form({**VALID, "consent": "on", "locale": "zh-Hant"})
    result = submit_action(db_session, slug, form, now=now, source="form")
    [consent] = consents(db_session)
    campaign_id = db_session.scalar(select(Campaign.id).where(Campaign.slug == slug))
    assert consent.campaign_id == campaign_id
    assert (consent.source, consent.locale, consent.action_id) == ("form", "zh-Hant",
                                                                   result.action_id)
    assert consent.text == CONSENT_TEXT["zh-Hant"] and consent.given_at == now
    assert consent.withdrawn_at is None


def test_no_consent_no_record_and_consent_to_one_campaign_is_not_to_another(
        db_session: Session, slug: str):
    other = load_campaign(db_session, SECOND_CAMPAIGN_FILE)
    submit_action(db_session, slug, parse_action_form(VALID))
    assert consents(db_session) == []
    submit_action(db_session, slug, parse_action_form({**VALID, "consent": True}))  # a repeat
    submit_action(db_session, other.slug, parse_action_form(VALID))
    [consent] = consents(db_session)
    assert consent.campaign_id != other.id and consent.source == "api"
    assert consent.action_id is None  # given with a repeat of the day's action


def test_consent_once_given_stands_and_a_withdrawal_is_never_revived(db_session: Session,
                                                                     slug: str):
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    submit_action(db_session, slug, parse_action_form({**VALID, "consent": True}), now=now)
    submit_action(db_session, slug, parse_action_form(VALID), now=now + timedelta(days=2))
    [kept] = consents(db_session)
    assert kept.given_at == now and kept.withdrawn_at is None
    withdraw_consent(db_session, kept.supporter_id, kept.campaign_id, via="link")
    db_session.commit()
    # Anyone can type an address into the form: a later consent doesn't undo a withdrawal.
    submit_action(db_session, slug, parse_action_form({**VALID, "consent": True}),
                  now=now + timedelta(days=3))
    [after] = consents(db_session)
    assert after.withdrawn_at is not None and after.given_at == now


def test_unknown_campaign_is_refused(db_session: Session):
    with pytest.raises(UnknownCampaign):
        submit_action(db_session, "no-such-campaign", parse_action_form(VALID))


@pytest.mark.parametrize(
    ("data", "field", "status"),
    [
        ({**VALID, "email": "not-an-email"}, "email", 422),
        ({k: v for k, v in VALID.items() if k != "zip"}, "zip", 422),
        ({**VALID, "zip": "1234"}, "zip", 422),
        ({**VALID, "first_name": "Mei\r\nBcc: victim@example.org"}, "first_name", 422),
        ({**VALID, "last_name": "x" * 101}, "last_name", 422),
        ({**VALID, "locale": "fr"}, "locale", 422),
        ({**VALID, "state": "XX"}, "state", 422),
        ({**VALID, "consent": "maybe"}, "consent", 422),
        ({**VALID, "email": ["a@example.org"]}, "email", 422),
        ({**VALID, "is_admin": True}, "is_admin", 400),
        ({**VALID, "city": "Boston\x00"}, "city", 422),
        ({**VALID, "first_name": "   "}, "first_name", 422),
    ],
)
def test_bad_fields_are_named(data: dict, field: str, status: int):
    with pytest.raises(FieldError) as caught:
        parse_action_form(data)
    assert (caught.value.field, caught.value.status) == (field, status)


def test_zip_plus_four_and_unicode_names_are_accepted():
    form = parse_action_form({**VALID, "zip": "02139-4307", "first_name": "美玲",
                              "last_name": "Ó Briain", "locale": "zh-Hant"})
    assert (form.zip, form.first_name, form.locale) == ("02139", "美玲", "zh-Hant")


def test_message_may_span_lines_but_names_may_not():
    form = parse_action_form({**VALID, "message": "Line one\nLine two"})
    assert form.message == "Line one\nLine two"
