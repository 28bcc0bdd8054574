"""The mail carrying a one-time sign-in link (``actionwave.accounts.signin_links``) to an
organizer's own address, queued as a mail delivery like every other mail the product sends (the
dev outbox on the embedded default, SendGrid otherwise)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from actionwave.accounts.services import digest
from actionwave.accounts.signin_links import LINK_LIFETIME, new_link
from actionwave.core.models import Delivery
from actionwave.delivery.mailing import MAIL_CHANNEL, mail_payload
from actionwave.delivery.states import PENDING
from actionwave.platform.config import Settings

WORDS = {
    "en": {"subject": "Your Actionwave sign-in link",
           "text": "You asked for a link to sign in to the Actionwave console:\n\n{url}\n\n"
                   "It works once, within {minutes} minutes. If you did not ask for it, ignore "
                   "this mail: someone may be guessing your password, and your account stays "
                   "locked to them."},
    "zh-Hant": {"subject": "您的 Actionwave 登入連結",
                "text": "您要求一個登入 Actionwave 控制台的連結：\n\n{url}\n\n"
                        "連結只能使用一次，{minutes} 分鐘內有效。如果您沒有提出要求，請忽略此電郵："
                        "可能有人在猜您的密碼，您的帳戶對他們仍然鎖定。"},
}


def signin_link_url(settings: Settings, token: str) -> str:
    return f"{settings.public_url.rstrip('/')}/console/login/link/{token}"


def mail_signin_link(session: Session, settings: Settings, email: str, locale: str = "en",
                     now: datetime | None = None) -> bool:
    """Queue a mail with a new sign-in link to the organizer account ``email``; True if one was
    queued (False for no such account, a disabled one, or one over its hourly allowance: the
    caller answers the same either way). Commits."""
    now = now or datetime.now(UTC)
    made = new_link(session, email, now)
    if made is None:
        session.commit()
        return False
    user, token = made
    words = WORDS.get(locale, WORDS["en"])
    text = words["text"].format(url=signin_link_url(settings, token),
                                minutes=int(LINK_LIFETIME.total_seconds() // 60))
    session.add(Delivery(
        channel=MAIL_CHANNEL, recipient=user.email, state=PENDING, attempts=0,
        next_attempt_at=now, idempotency_key=f"signin-link:{digest(token)[:40]}",
        payload={"mail": mail_payload(words["subject"], text, category="signin")}))
    session.commit()
    return True
