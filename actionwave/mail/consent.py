"""Consent to one campaign's mail: the words supporters agree to, recording it, withdrawing it.

The consent box's text lives here rather than in the interface catalogs, so the campaign form
shows, and the intake records, the very same words (``consent_text``). An API client records a
consent with the same text, in the submission's locale: it must show its supporters that text
(the OpenAPI description of ``consent`` quotes it).

Who may be mailed is decided in ``actionwave.mail.audience``; this module keeps the records.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from actionwave.core.models import CampaignConsent, Reminder
from actionwave.mail.audience import NO_CONSENT
from actionwave.platform.db import dialect_insert

CONSENT_TEXT = {
    "en": "Keep me updated on this bill (you can unsubscribe at any time).",
    "zh-Hant": "請通知我這項法案的最新進展（可隨時取消訂閱）。",
}
# How a consent was withdrawn (``CampaignConsent.withdrawn_via``).
VIA_LINK = "link"
VIA_EVERYTHING = "everything"
VIA_ERASED = "erased"


def consent_text(locale: str) -> str:
    """The consent box's label in ``locale`` (English for an unknown one)."""
    return CONSENT_TEXT.get(locale, CONSENT_TEXT["en"])


def grant_consent(session: Session, supporter_id: int, campaign_id: int, *, source: str,
                  locale: str = "en", text: str | None = None, at: datetime | None = None,
                  action_id: uuid.UUID | None = None) -> bool:
    """Record a consent (an import, a script); the web intake writes its own in the submission's
    statement (``actionwave.intake.submissions``). No commit. True if new: an existing record, given
    or withdrawn, is kept as it is.
    """
    inserted = session.execute(
        dialect_insert(session, CampaignConsent.__table__).values(
            supporter_id=supporter_id, campaign_id=campaign_id, source=source, locale=locale,
            text=text if text is not None else consent_text(locale), action_id=action_id,
            given_at=at or datetime.now(UTC),
        ).on_conflict_do_nothing(index_elements=["campaign_id", "supporter_id"])
        .returning(CampaignConsent.id)
    ).scalar()
    return inserted is not None


def withdraw_consent(session: Session, supporter_id: int, campaign_id: int | None, *,
                     via: str, reason: str = NO_CONSENT, now: datetime | None = None) -> int:
    """Withdraw the supporter's consent to ``campaign_id`` (None: to every campaign) and cancel
    the open reminders it covered, closing them with ``reason``. No commit; idempotent.
    Returns how many consents this call withdrew.
    """
    now = now or datetime.now(UTC)
    consents = update(CampaignConsent).where(CampaignConsent.supporter_id == supporter_id,
                                             CampaignConsent.withdrawn_at.is_(None))
    reminders = update(Reminder).where(Reminder.supporter_id == supporter_id,
                                       Reminder.sent_at.is_(None),
                                       Reminder.cancelled_at.is_(None))
    if campaign_id is not None:
        consents = consents.where(CampaignConsent.campaign_id == campaign_id)
        reminders = reminders.where(Reminder.campaign_id == campaign_id)
    withdrawn = session.execute(consents.values(withdrawn_at=now, withdrawn_via=via)).rowcount
    session.execute(reminders.values(cancelled_at=now, outcome=reason))
    return withdrawn or 0


def consents_of(session: Session, campaign_id: int,
                supporter_ids: Collection[int]) -> dict[int, CampaignConsent]:
    """The consent records of these supporters to one campaign, by supporter id."""
    if not supporter_ids:
        return {}
    return {row.supporter_id: row for row in session.scalars(
        select(CampaignConsent).where(CampaignConsent.campaign_id == campaign_id,
                                      CampaignConsent.supporter_id.in_(supporter_ids)))}
