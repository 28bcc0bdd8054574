"""An expired unsubscribe link (``actionwave.mail.unsubscribe``) asks for a fresh one: mailed to
the supporter's own address, so only the owner of the mailbox can use it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from actionwave.core.models import Campaign, Delivery, Supporter
from actionwave.delivery.mailing import MAIL_CHANNEL, mail_payload
from actionwave.delivery.states import PENDING
from actionwave.mail.audience import may_send_transactional
from actionwave.mail.unsubscribe import UnsubscribeScope, list_unsubscribe_headers, unsubscribe_url
from actionwave.platform.config import Settings

WORDS = {
    "en": {"subject": "Your link to change your email preferences",
           "text": "You asked for a new link to change the mail you get from {title}:\n\n{url}\n\n"
                   "It works for a year. If you did not ask for it, ignore this mail."},
    "zh-Hant": {"subject": "更改電郵偏好設定的連結",
                "text": "您要求一個新連結，以更改您從「{title}」收到的電郵：\n\n{url}\n\n"
                        "連結一年內有效。如果您沒有提出要求，請忽略此電郵。"},
}


def mail_fresh_link(session: Session, settings: Settings, scope: UnsubscribeScope,
                    now: datetime | None = None) -> bool:
    """Queue a mail with a fresh preferences link to the supporter of ``scope``; True if one was
    queued. At most one a day per supporter and campaign (a repeat asks for nothing new); none to
    an address that may not be mailed. Commits."""
    now = now or datetime.now(UTC)
    supporter = session.get(Supporter, scope.supporter_id)
    if supporter is None or not may_send_transactional(supporter):
        return False
    key = f"fresh-link:{scope.supporter_id}:{scope.campaign_id}:{now.date().isoformat()}"
    if session.scalar(select(Delivery.id).where(Delivery.idempotency_key == key)) is not None:
        return False
    campaign = session.get(Campaign, scope.campaign_id) if scope.campaign_id else None
    words = WORDS.get(supporter.locale, WORDS["en"])
    url = unsubscribe_url(settings, supporter.id, scope.campaign_id)
    text = words["text"].format(title=campaign.title if campaign else "Actionwave", url=url)
    session.add(Delivery(
        supporter_id=supporter.id, campaign_id=scope.campaign_id, channel=MAIL_CHANNEL,
        recipient=supporter.email, state=PENDING, attempts=0, next_attempt_at=now,
        idempotency_key=key,
        payload={"mail": mail_payload(
            words["subject"], text, to_name=supporter.first_name or None,
            headers=list_unsubscribe_headers(settings, supporter.id, scope.campaign_id),
            category="preferences")}))
    session.commit()
    return True
