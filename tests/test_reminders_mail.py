"""Reminders end to end: beat's sweep decides, a real worker renders and sends through SendGrid."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from actionwave.core.models import Campaign, Reminder, Supporter
from actionwave.mail.consent import grant_consent
from actionwave.platform.config import Settings
from actionwave.reminders.sweep import ASK_TO_CALL, WRITE_SENATORS
from actionwave.system.services import Services
from tests.delivery_support import mail_settings
from tests.stubs.sendgrid import sendgrid_stub
from tests.support import wait_for

CAMPAIGN = "hketo-certification-act"


def _campaign_id(session: Session) -> int:
    return session.scalar(select(Campaign.id).where(Campaign.slug == CAMPAIGN))  # type: ignore[return-value]


def _person(services: Services, email: str, state: str, district: int, **fields: object) -> int:
    """A supporter who consented to the campaign's mail, with a sitting representative."""
    with services.session() as session:
        person = Supporter(email=email, first_name=email.split("@")[0].title(), last_name="Lee",
                           zip="10001", state=state, district=district, **fields)
        session.add(person)
        session.flush()
        grant_consent(session, person.id, _campaign_id(session), source="import")
        session.commit()
        return person.id


def _remind(services: Services, supporter_id: int, due_at: datetime, kind: str = ASK_TO_CALL,
            key: str = "", sent_at: datetime | None = None) -> int:
    with services.session() as session:
        campaign_id = _campaign_id(session)
        row = Reminder(supporter_id=supporter_id, campaign_id=campaign_id, kind=kind, key=key,
                       due_at=due_at, sent_at=sent_at, outcome="sent" if sent_at else None)
        session.add(row)
        session.commit()
        return row.id


def test_due_reminder_is_mailed_once_by_a_real_worker_and_the_rest_are_held_back(
    committed_db: Services, campaign_slug: str, settings: Settings,
    start_worker,  # type: ignore[no-untyped-def]
) -> None:
    from workers import create_celery

    now = datetime.now(UTC)
    # Quiet hours that leave New York's present hour (and the next) open and Hawaii's closed.
    new_york = now.astimezone(ZoneInfo("America/New_York")).hour
    before = now - timedelta(minutes=5)
    due = _remind(committed_db, _person(committed_db, "ada@example.org", "NY", 12), before,
                  kind=WRITE_SENATORS, key="transition:1")
    quiet = _remind(committed_db, _person(committed_db, "kai@example.org", "HI", 1), before)
    capped_person = _person(committed_db, "cap@example.org", "NY", 12)
    for key in ("a", "b"):
        _remind(committed_db, capped_person, now - timedelta(days=2), key=key,
                sent_at=now - timedelta(days=1))
    capped = _remind(committed_db, capped_person, before, kind=WRITE_SENATORS, key="c")
    gone = _remind(committed_db, _person(committed_db, "gone@example.org", "NY", 12,
                                         unsubscribed_at=now), before)
    later = _remind(committed_db, _person(committed_db, "later@example.org", "NY", 12),
                    now + timedelta(days=1))

    with sendgrid_stub() as stub:
        worker_settings = mail_settings(settings, stub, quiet_hours_end=new_york,
                                        quiet_hours_start=new_york + 2, reminder_cap_per_week=2)
        start_worker(worker_settings)
        beat = create_celery(worker_settings)  # the test plays beat
        try:
            def mailed() -> bool:
                beat.send_task("actionwave.sweep_reminders")
                beat.send_task("actionwave.sweep_deliveries")
                return bool(stub.accepted)

            wait_for(mailed, timeout=30, interval=0.5, message="the due reminder mailed")
            for _ in range(3):  # more sweeps change nothing
                beat.send_task("actionwave.sweep_reminders")
                beat.send_task("actionwave.sweep_deliveries")
                time.sleep(0.5)
        finally:
            beat.services.close()
        mails = stub.accepted

    assert [(m.key, m.to) for m in mails] == [(f"reminder:{due}", "ada@example.org")]
    assert mails[0].subject.startswith("H.R. 2661 is moving: a minute for Hong Kong, Ada")
    assert "Unsubscribe:" in mails[0].text and "List-Unsubscribe" in mails[0].headers
    with committed_db.session() as session:
        rows = {r.id: r for r in session.scalars(select(Reminder))}
    assert rows[due].outcome == "sent"
    assert rows[quiet].outcome is None and rows[quiet].due_at > now  # moved to Hawaii's morning
    assert rows[capped].outcome == "capped"
    assert rows[gone].outcome == "unsubscribed"
    assert rows[later].outcome is None and rows[later].sent_at is None
