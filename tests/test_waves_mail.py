"""Wave mail: rendered per supporter at send time, sent through the real SendGrid mailer (stub)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import delete, event, func, select, text
from sqlalchemy.orm import Session

from actionwave.core.models import Campaign, Delivery, MessageTemplate, Supporter
from actionwave.delivery.claims import claim_due_deliveries
from actionwave.delivery.engine import deliver_due
from actionwave.delivery.policy import DeliveryPolicy
from actionwave.mail.consent import grant_consent
from actionwave.mail.sendgrid_mailer import SendGridMailer
from actionwave.mail.unsubscribe import unsubscribe
from actionwave.platform.config import Settings
from actionwave.platform.ratelimit import LocalRateLimiter
from actionwave.system.services import Services
from actionwave.waves.control import pause_wave, resume_wave, wave_progress
from actionwave.waves.launch import WAVE_CHANNEL, create_wave, fan_out_wave, launch_wave
from actionwave.waves.mail import CampaignMailSender, render_batch, wave_choices
from tests.delivery_support import mail_settings
from tests.stubs.sendgrid import SendGridStub, sendgrid_stub
from tests.support import consent_everyone, wait_for

BIG_WAVE = 100_000
CAMPAIGN = "hketo-certification-act"


@pytest.fixture
def stub() -> Iterator[SendGridStub]:
    with sendgrid_stub() as running:
        yield running


def _supporter(services: Services, email: str, first_name: str, locale: str = "en",
               city: str | None = None, campaign: str = CAMPAIGN) -> int:
    """A Californian with a sitting representative who consented to ``campaign``'s mail."""
    with services.session() as session:
        person = Supporter(email=email, first_name=first_name, last_name="Lee", zip="94110",
                           state="CA", district=11, city=city, locale=locale)
        session.add(person)
        session.flush()
        campaign_id = session.scalar(select(Campaign.id).where(Campaign.slug == campaign))
        grant_consent(session, person.id, campaign_id, source="import")  # type: ignore[arg-type]
        session.commit()
        return person.id


def _fanned_out_wave(services: Services, slug: str, template: str = "default",
                     chamber: str | None = None) -> int:
    with services.session() as session:
        campaign_id = session.scalar(select(Campaign.id).where(Campaign.slug == slug))
        wave_id = create_wave(session, campaign_id, "call now", template_name=template,
                              segment={"chamber": chamber} if chamber else {}).id
        session.commit()
        launch_wave(session, wave_id)
        fan_out_wave(session, wave_id)
        return wave_id


def _send(services: Services, settings: Settings) -> None:
    sender = CampaignMailSender(wave_choices, services.session_factory, settings,
                                SendGridMailer(settings))
    deliver_due(services.session_factory, WAVE_CHANNEL, sender, LocalRateLimiter(),
                DeliveryPolicy.from_settings(settings), "w1", sleep=lambda _: None)


def _states(services: Services) -> dict[str, tuple[str, str | None]]:
    with services.session() as session:
        rows = session.execute(select(Supporter.email, Delivery.state, Delivery.last_error)
                               .join(Supporter, Supporter.id == Delivery.supporter_id)).all()
    return {email: (state, error) for email, state, error in rows}


def test_wave_mail_speaks_each_supporters_language_with_one_click_unsubscribe(
    committed_db: Services, campaign_slug: str, settings: Settings, stub: SendGridStub,
) -> None:
    ada = _supporter(committed_db, "ada@example.org", "Ada", city="Oakland")
    _supporter(committed_db, "mei@example.org", "美玲", locale="zh-Hant")
    _fanned_out_wave(committed_db, campaign_slug, chamber="senate")
    _send(committed_db, mail_settings(settings, stub))

    mails = {mail.to: mail for mail in stub.accepted}
    assert set(mails) == {"ada@example.org", "mei@example.org"}
    assert stub.statuses[202] == 1  # both in one request, each body a substitution
    english, chinese = mails["ada@example.org"], mails["mei@example.org"]
    assert english.subject == "Ada, H.R. 2661 needs your voice now"
    assert "Hello Ada," in english.text
    assert "introduce or support a Senate companion" in english.text  # the segment's chamber
    assert f"Take action: {settings.public_url}/c/{campaign_slug}?lang=en" in english.text
    assert f"Unsubscribe: {settings.public_url}/u/" in english.text
    assert english.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert english.headers["List-Unsubscribe"].startswith(f"<{settings.public_url}/u/")
    assert english.key.startswith("wave:") and english.key.endswith(f":{ada}")
    assert chinese.subject.startswith("美玲，H.R. 2661") and "美玲 您好" in chinese.text
    assert "取消訂閱：" in chinese.text and "List-Unsubscribe" in chinese.headers
    assert f"{settings.public_url}/c/{campaign_slug}?lang=zh-Hant" in chinese.text


def test_supporter_who_unsubscribed_after_fan_out_is_never_mailed(
    committed_db: Services, campaign_slug: str, settings: Settings, stub: SendGridStub,
) -> None:
    _supporter(committed_db, "stays@example.org", "Stay")
    leaving = _supporter(committed_db, "leaves@example.org", "Leave")
    _fanned_out_wave(committed_db, campaign_slug)
    with committed_db.session() as session:
        unsubscribe(session, leaving)
    _send(committed_db, mail_settings(settings, stub))

    assert [mail.to for mail in stub.accepted] == ["stays@example.org"]
    states = _states(committed_db)
    assert states["stays@example.org"][0] == "sent"
    assert states["leaves@example.org"][0] == "failed"
    assert "unsubscribed" in (states["leaves@example.org"][1] or "")


def test_unknown_template_name_falls_back_to_default_and_missing_templates_fail(
    committed_db: Services, campaign_slug: str, settings: Settings, stub: SendGridStub,
) -> None:
    _supporter(committed_db, "ada@example.org", "Ada")
    _fanned_out_wave(committed_db, campaign_slug, template="no-such-name")
    _send(committed_db, mail_settings(settings, stub))
    assert [mail.subject for mail in stub.accepted] == ["Ada, H.R. 2661 needs your voice now"]

    _supporter(committed_db, "bo@example.org", "Bo")
    with committed_db.session() as session:
        session.execute(delete(MessageTemplate).where(MessageTemplate.kind == "wave"))
        session.commit()
    _fanned_out_wave(committed_db, campaign_slug)
    _send(committed_db, mail_settings(settings, stub))
    assert len(stub.accepted) == 1
    with committed_db.session() as session:
        errors = session.scalars(select(Delivery.last_error).where(Delivery.state == "failed"))
        assert [e for e in errors if e and "no wave template" in e]


def test_a_batch_renders_with_a_fixed_number_of_queries(
    committed_db: Services, campaign_slug: str, settings: Settings,
) -> None:
    with committed_db.session() as session:
        session.execute(text(
            "INSERT INTO supporters (email, first_name, last_name, state, zip, locale,"
            " created_at, updated_at) SELECT 'q' || g || '@example.org', 'Q' || g, 'L', 'NY',"
            " '10001', CASE WHEN g % 2 = 0 THEN 'en' ELSE 'zh-Hant' END, now(), now()"
            " FROM generate_series(1, 300) g"))
        consent_everyone(session, campaign_slug)
        session.commit()
    _fanned_out_wave(committed_db, campaign_slug)
    with committed_db.session() as session:
        claimed = claim_due_deliveries(session, WAVE_CHANNEL, 300, "w1", 60)
    statements: list[str] = []

    def count(*_args: object) -> None:
        statements.append("")

    event.listen(committed_db.engine, "before_cursor_execute", count)
    try:
        with committed_db.session() as session:
            rendered = render_batch(session, settings, claimed, wave_choices)
    finally:
        event.remove(committed_db.engine, "before_cursor_execute", count)
    assert len(rendered) == 300 and all("mail" in c.payload for c in rendered)
    assert len(statements) <= 4  # supporters, waves, campaigns, their templates
    subjects = [c.payload["mail"]["subject"] for c in rendered]
    assert sum(s.endswith("needs your voice now") for s in subjects) == 150
    assert sum(s.endswith("此刻需要您的聲音") for s in subjects) == 150


@pytest.mark.slow
def test_wave_to_100k_supporters_is_delivered_once_each_paused_and_resumed_halfway(
    committed_db: Services, campaign_slug: str, settings: Settings, stub: SendGridStub,
    start_worker,  # type: ignore[no-untyped-def]
) -> None:
    from workers import create_celery

    with committed_db.session() as session:
        session.execute(text(
            "INSERT INTO supporters (email, first_name, last_name, state, zip, locale,"
            " created_at, updated_at) SELECT 'h' || g || '@example.org', 'H' || g, 'K', 'CA',"
            " '94110', CASE WHEN g % 10 = 0 THEN 'zh-Hant' ELSE 'en' END, now(), now()"
            " FROM generate_series(1, :n) g"), {"n": BIG_WAVE})
        consent_everyone(session, campaign_slug)
        session.commit()
        campaign_id = session.scalar(select(Campaign.id).where(Campaign.slug == campaign_slug))
        wave_id = create_wave(session, campaign_id, "everyone").id
        supporter_ids = set(session.scalars(select(Supporter.id)))
        session.commit()
    worker_settings = mail_settings(settings, stub, delivery_batch_size=1000,
                                    delivery_lease_seconds=60.0)
    for _ in range(2):  # two worker processes, as on a 2-core machine
        start_worker(worker_settings)
    beat = create_celery(worker_settings)  # the test plays beat

    def accepted() -> int:
        return len(stub.state.accepted)

    def sent_at_least(count: int) -> bool:
        beat.send_task("actionwave.sweep_deliveries")
        return accepted() >= count

    try:
        with committed_db.session() as session:
            launch_wave(session, wave_id)
            beat.send_task("actionwave.advance_waves")
            wait_for(lambda: sent_at_least(BIG_WAVE // 2), timeout=60, interval=0.5,
                     message="half the wave delivered")
            assert pause_wave(session, wave_id)
            settled = _settle(lambda: (accepted(), _sending(session, wave_id)))[0]
            assert BIG_WAVE // 2 <= settled < BIG_WAVE
            beat.send_task("actionwave.sweep_deliveries")
            time.sleep(1.5)
            assert accepted() == settled, "a paused wave kept sending"
            progress = wave_progress(session, wave_id)
            assert progress is not None and progress["status"] == "paused"
            assert progress["pending"] == BIG_WAVE - settled

            assert resume_wave(session, wave_id)
            beat.send_task("actionwave.advance_waves")  # finishes a fan-out the pause stopped
            wait_for(lambda: sent_at_least(BIG_WAVE), timeout=60, interval=0.5,
                     message="the whole wave delivered")

            def done() -> bool:
                beat.send_task("actionwave.advance_waves")
                return (wave_progress(session, wave_id) or {}).get("status") == "done"

            wait_for(done, timeout=20, interval=0.5, message="the wave marked done")
            progress = wave_progress(session, wave_id)
    finally:
        beat.services.close()
    counts = stub.counts
    assert set(counts) == {f"wave:{wave_id}:{sid}" for sid in supporter_ids}, "lost or strangers"
    assert set(counts.values()) == {1}, "a supporter got the wave twice"
    assert progress is not None
    assert (progress["done"], progress["failed"], progress["total"]) == (BIG_WAVE, 0, BIG_WAVE)


def _sending(session: Session, wave_id: int) -> int:
    return session.scalar(select(func.count()).where(
        Delivery.wave_id == wave_id, Delivery.state == "sending")) or 0


def _settle(count: Callable[[], tuple[int, int]], quiet_seconds: float = 1.0,
            timeout: float = 30) -> tuple[int, int]:
    """(mails accepted, rows sending) once batches in flight are recorded: nothing sending and
    nothing new for ``quiet_seconds``."""
    deadline = time.monotonic() + timeout
    last, since = count(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = count()
        if now != last or now[1]:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_seconds:
            return now
    raise AssertionError(f"still sending after {timeout}s: {last}")
