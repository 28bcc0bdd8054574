"""The one rule for who may get a campaign's mail, on both stores (SQLite as ``make run`` has it,
and PostgreSQL): as SQL when waves fan out and reminders are planned, and again when they are sent.

Two campaigns share some supporters and not others; the legislators are the real snapshot
(``../shared/data``: CA-14 is vacant, DC and PR have a delegate and no senators).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from actionwave.campaigns.files import load_campaign
from actionwave.core.models import Action, Campaign, Delivery, Reminder, Supporter, Target
from actionwave.delivery.claims import Claimed, claim_due_deliveries
from actionwave.legislators.sources import read_source
from actionwave.legislators.sync import store_snapshot
from actionwave.mail.audience import NO_CONSENT, SUPPRESSED, UNSUBSCRIBED, may_mail, refusal
from actionwave.mail.consent import grant_consent
from actionwave.mail.events import suppress_address
from actionwave.mail.unsubscribe import unsubscribe_from_campaign
from actionwave.platform.config import Settings
from actionwave.platform.db import make_engine, make_session_factory
from actionwave.platform.migrate import upgrade
from actionwave.reminders.mail import reminder_choices
from actionwave.reminders.sweep import (
    ASK_TO_CALL,
    REMINDER_CHANNEL,
    WRITE_SENATORS,
    plan_call_reminders,
    plan_senate_reminders,
    sweep_due_reminders,
)
from actionwave.reminders.zones import QuietHours
from actionwave.waves.launch import WAVE_CHANNEL, create_wave, fan_out_wave, launch_wave
from actionwave.waves.mail import REFUSED, render_batch, wave_choices
from tests.conftest import CAMPAIGN_FILE, SECOND_CAMPAIGN_FILE, SHARED_DATA

A, B = "hketo-certification-act", "test-second-campaign"
NOW = datetime(2030, 3, 5, 18, tzinfo=UTC)
NO_QUIET = QuietHours(0, 0)
# name: (state, district, campaigns consented to, campaigns acted on, what else is true of them)
PEOPLE = {
    "a": ("CA", 11, (A,), (A,), {}),
    "b": ("NY", 12, (B,), (B,), {}),
    "ab": ("CA", 11, (A, B), (A, B), {"wrote_senate": True}),
    "silent": ("CA", 11, (), (A,), {}),
    "withdrawn": ("CA", 11, (A,), (A,), {"withdrawn": True}),
    "unsubscribed": ("CA", 11, (A, B), (A, B), {"unsubscribed": True}),
    "bounced": ("CA", 11, (A,), (A,), {"suppressed": "bounce"}),
    "erased": ("CA", 11, (A,), (A,), {"suppressed": "erased"}),
    "dc": ("DC", 0, (A,), (A,), {}),
    "pr": ("PR", 0, (A,), (A,), {}),
    "vacant": ("CA", 14, (A,), (A,), {}),
    "unknown": (None, None, (A,), (A,), {}),
}


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file with the real legislator snapshot and both campaigns, made once."""
    path = tmp_path_factory.mktemp("audience") / "template.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        store_snapshot(session, read_source(str(SHARED_DATA)))
        load_campaign(session, CAMPAIGN_FILE)
        load_campaign(session, SECOND_CAMPAIGN_FILE)
    engine.dispose()
    return path


@pytest.fixture(params=["postgresql", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Session]:
    if request.param == "postgresql":
        request.getfixturevalue("campaign_slug")
        yield request.getfixturevalue("db_session")
        return
    path = tmp_path / "store.db"
    shutil.copy(request.getfixturevalue("sqlite_template"), path)
    engine = make_engine(f"sqlite:///{path}")
    with make_session_factory(engine)() as session:
        yield session
    engine.dispose()


@pytest.fixture
def people(store: Session) -> dict[str, int]:
    """``PEOPLE`` stored, each with their consents and an action an hour ago per campaign."""
    campaigns = campaign_ids(store)
    ids = {}
    for name, (state, district, consented, acted, extra) in PEOPLE.items():
        person = Supporter(email=f"{name}@example.org", first_name=name.title(), last_name="L",
                           zip="94110", state=state, district=district,
                           unsubscribed_at=NOW if extra.get("unsubscribed") else None,
                           suppressed_reason=extra.get("suppressed"))
        store.add(person)
        store.flush()
        ids[name] = person.id
        for slug in consented:
            grant_consent(store, person.id, campaigns[slug], source="form", at=NOW)
        for slug in acted:
            action = Action(campaign_id=campaigns[slug], supporter_id=person.id,
                            idempotency_key=f"{name}-{slug}", created_at=NOW - timedelta(hours=1))
            store.add(action)
            store.flush()
            if extra.get("wrote_senate"):
                store.add(Target(action_id=action.id, bioguide_id="P000145", chamber="senate",
                                 state="CA", name="Senator", info={}))
        if extra.get("withdrawn"):
            unsubscribe_from_campaign(store, person.id, campaigns[A], now=NOW)
    store.commit()
    return ids


def campaign_ids(session: Session) -> dict[str, int]:
    return {slug: ident for slug, ident in session.execute(select(Campaign.slug, Campaign.id))}


def names(people: dict[str, int], ids: object) -> set[str]:
    by_id = {ident: name for name, ident in people.items()}
    return {by_id[i] for i in ids}  # type: ignore[attr-defined]


def test_each_campaign_may_mail_only_its_own_consenters(store: Session,
                                                         people: dict[str, int]) -> None:
    campaigns = campaign_ids(store)
    for slug, expected in ((A, {"a", "ab", "dc", "pr", "vacant", "unknown"}), (B, {"b", "ab"})):
        allowed = store.scalars(select(Supporter.id).where(may_mail(campaigns[slug])))
        assert names(people, allowed) == expected, slug
    reasons = dict(store.execute(select(Supporter.id, refusal(campaigns[A]))).all())
    assert {name: reasons[ident] for name, ident in people.items() if reasons[ident]} == {
        "b": NO_CONSENT, "silent": NO_CONSENT, "withdrawn": NO_CONSENT,
        "unsubscribed": UNSUBSCRIBED, "bounced": SUPPRESSED, "erased": SUPPRESSED}


def fanned_out(session: Session, slug: str, segment: dict[str, str] | None = None) -> set[int]:
    campaign_id = campaign_ids(session)[slug]
    wave_id = create_wave(session, campaign_id, "wave", segment=segment).id
    session.commit()
    launch_wave(session, wave_id, now=NOW)
    fan_out_wave(session, wave_id, now=NOW)
    rows = session.execute(select(Delivery.supporter_id, Delivery.campaign_id)
                           .where(Delivery.wave_id == wave_id)).all()
    assert {campaign for _, campaign in rows} <= {campaign_id}
    return {supporter for supporter, _ in rows}


def test_a_wave_reaches_its_own_consenters_and_a_chamber_those_who_have_a_member_in_it(
        store: Session, people: dict[str, int]) -> None:
    assert names(people, fanned_out(store, B)) == {"b", "ab"}
    assert names(people, fanned_out(store, A, {"chamber": "senate"})) == {"a", "ab", "vacant"}
    assert names(people, fanned_out(store, A, {"chamber": "house"})) == {"a", "ab", "dc", "pr"}


def planned(session: Session, kind: str) -> set[tuple[str, str]]:
    campaigns = {ident: slug for slug, ident in campaign_ids(session).items()}
    rows = session.execute(select(Supporter.email, Reminder.campaign_id)
                           .join(Supporter, Supporter.id == Reminder.supporter_id)
                           .where(Reminder.kind == kind, Reminder.cancelled_at.is_(None))).all()
    return {(email.split("@")[0], campaigns[campaign]) for email, campaign in rows}


def test_call_reminders_are_planned_for_consenters_with_a_sitting_representative(
        store: Session, people: dict[str, int]) -> None:
    assert plan_call_reminders(store, now=NOW) == 6
    assert planned(store, ASK_TO_CALL) == {("a", A), ("ab", A), ("ab", B), ("b", B), ("dc", A),
                                           ("pr", A)}
    assert plan_call_reminders(store, now=NOW) == 0


def test_senate_reminders_skip_the_district_the_territories_and_unknown_states(
        store: Session, people: dict[str, int]) -> None:
    plan_senate_reminders(store, campaign_ids(store)[A], transition_id=1, now=NOW)
    store.commit()
    # ab wrote to their senators already; the others here have none, or no known state.
    assert planned(store, WRITE_SENATORS) == {("a", A), ("vacant", A)}


def claim(session: Session, channel: str) -> list[Claimed]:
    """What a worker would claim now of ``channel`` (planned for ``NOW``, in the future)."""
    session.execute(update(Delivery).values(next_attempt_at=datetime.now(UTC)))
    return claim_due_deliveries(session, channel, 100, "w1", 60)


def outcomes(session: Session) -> dict[tuple[str, str], str | None]:
    campaigns = {ident: slug for slug, ident in campaign_ids(session).items()}
    rows = session.execute(select(Supporter.email, Reminder.campaign_id, Reminder.outcome)
                           .join(Supporter, Supporter.id == Reminder.supporter_id)).all()
    return {(email.split("@")[0], campaigns[campaign]): outcome
            for email, campaign, outcome in rows}


def test_who_withdraws_after_planning_gets_nothing_at_the_sweep_or_at_sending(
        store: Session, people: dict[str, int], settings: Settings) -> None:
    campaigns = campaign_ids(store)
    plan_call_reminders(store, now=NOW)
    unsubscribe_from_campaign(store, people["a"], campaigns[A])  # cancels what it covered
    suppress_address(store, "b@example.org", "spamreport")  # the sweep will see it
    store.execute(update(Supporter).where(Supporter.id == people["pr"]).values(district=1))
    store.commit()
    due = NOW + timedelta(days=3)
    result = sweep_due_reminders(store, cap=10, quiet=NO_QUIET, now=due)
    assert outcomes(store) == {("a", A): NO_CONSENT, ("b", B): SUPPRESSED,
                               ("pr", A): "no_legislator",  # PR has no district 1
                               ("ab", A): "sent", ("ab", B): "sent", ("dc", A): "sent"}
    assert (result.sent, result.suppressed, result.no_legislator) == (3, 1, 1)

    unsubscribe_from_campaign(store, people["ab"], campaigns[B])  # after the sweep, before send
    claimed = claim(store, REMINDER_CHANNEL)
    rendered = render_batch(store, settings, claimed, reminder_choices)
    slugs = {ident: slug for slug, ident in campaigns.items()}
    whose = {key: (email.split("@")[0], slugs[campaign]) for key, email, campaign in store.execute(
        select(Delivery.idempotency_key, Supporter.email, Delivery.campaign_id)
        .join(Supporter, Supporter.id == Delivery.supporter_id))}
    assert {whose[c.key]: REFUSED in c.payload for c in rendered} == {
        ("ab", A): False, ("ab", B): True, ("dc", A): False}


def test_a_wave_mail_is_refused_with_the_reason_when_consent_goes_after_fan_out(
        store: Session, people: dict[str, int], settings: Settings) -> None:
    fanned_out(store, B)
    unsubscribe_from_campaign(store, people["ab"], campaign_ids(store)[B])
    claimed = claim(store, WAVE_CHANNEL)
    rendered = render_batch(store, settings, claimed, wave_choices)
    emails = dict(store.execute(select(Delivery.id, Supporter.email)
                                .join(Supporter, Supporter.id == Delivery.supporter_id)).all())
    payloads = {emails[c.id]: c.payload for c in rendered}
    assert payloads["ab@example.org"] == {REFUSED: "not sent: no consent to this campaign's mail "
                                                   "(never given, or withdrawn)"}
    assert "mail" in payloads["b@example.org"]
    assert "/u/" in payloads["b@example.org"]["mail"]["headers"]["List-Unsubscribe"]
