"""Unsubscribing: signed tokens, RFC 8058 one-click headers, and the state change itself.

A link is scoped to the campaign whose mail carries it, as RFC 8058 scopes one-click to the list
the mail came from: following it (or the one-click POST) withdraws the consent to that campaign
only. The page behind it also offers to stop all mail (``unsubscribe``). Links in mails sent
before links were scoped carry only the supporter id, and stop all mail, as they said they would.

Tokens are signed with ``SECRET_KEY`` and carry the supporter id, the campaign id and the day
the link was made, nothing else. A link works for ``LINK_LIFETIME`` (a year); an older one
changes nothing and offers to mail a fresh link to the supporter's own address
(``mail_fresh_link``), so a link that leaked long ago can't change their mail. Links made before
links carried their day (no day in them) keep working, as the mails that carry them promised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import parseaddr
from functools import lru_cache
from typing import Any

from itsdangerous import BadSignature, Serializer, URLSafeSerializer
from itsdangerous.encoding import base64_encode
from sqlalchemy import update
from sqlalchemy.orm import Session

from actionwave.core.models import Supporter
from actionwave.mail.audience import UNSUBSCRIBED
from actionwave.mail.consent import VIA_EVERYTHING, VIA_LINK, withdraw_consent
from actionwave.platform.config import Settings

SALT = "actionwave.unsubscribe"
LINK_LIFETIME = timedelta(days=365)
EPOCH = date(1970, 1, 1)


class _TokenSerializer(URLSafeSerializer):
    """``URLSafeSerializer`` without its attempt to compress: setting up a compressor for each
    token is a visible share of a worker's time on launch day (docs/performance.md). No
    supporter id
    below a trillion gets shorter under zlib (its header and checksum alone are 6 bytes), so the
    tokens are the very same. Reading is unchanged: it takes either form."""

    def dump_payload(self, obj: Any) -> bytes:
        return base64_encode(Serializer.dump_payload(self, obj))


@lru_cache(maxsize=4)
def _serializer(secret_key: str) -> URLSafeSerializer:
    """Built once per key, not per token: every mail carries its link and headers."""
    return _TokenSerializer(secret_key, salt=SALT)


@dataclass(frozen=True)
class UnsubscribeScope:
    """What a link stops: one campaign's mail, or (``campaign_id`` None, old links) all mail."""

    supporter_id: int
    campaign_id: int | None
    # When the link was made (None: before links carried their day). Not part of the scope: two
    # links that stop the same mail are equal, whatever their age.
    issued_on: date | None = field(default=None, compare=False)

    def expired(self, today: date | None = None) -> bool:
        """Older than ``LINK_LIFETIME`` (never, for a link without its day)."""
        today = today or datetime.now(UTC).date()
        return self.issued_on is not None and today - self.issued_on > LINK_LIFETIME


def unsubscribe_token(settings: Settings, supporter_id: int, campaign_id: int | None,
                      issued_on: date | None = None) -> str:
    """The token of a link made ``issued_on`` (today) that stops ``campaign_id``'s mail (None:
    all mail, as old links did; those carry no day)."""
    if campaign_id is None:
        return str(_serializer(settings.secret_key).dumps(supporter_id))
    day = ((issued_on or datetime.now(UTC).date()) - EPOCH).days
    return str(_serializer(settings.secret_key).dumps([supporter_id, campaign_id, day]))


def read_unsubscribe_token(settings: Settings, token: str) -> UnsubscribeScope | None:
    """What ``token`` stops, or None when the signature doesn't hold."""
    try:
        value = _serializer(settings.secret_key).loads(token)
    except BadSignature:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return UnsubscribeScope(value, None)
    if (isinstance(value, list) and len(value) in (2, 3)
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        issued = EPOCH + timedelta(days=value[2]) if len(value) == 3 else None
        return UnsubscribeScope(value[0], value[1], issued)
    return None


def unsubscribe_url(settings: Settings, supporter_id: int, campaign_id: int | None) -> str:
    return _url(settings, unsubscribe_token(settings, supporter_id, campaign_id))


def _url(settings: Settings, token: str) -> str:
    return f"{settings.public_url.rstrip('/')}/u/{token}"


def list_unsubscribe_headers(settings: Settings, supporter_id: int,
                             campaign_id: int | None) -> dict[str, str]:
    """``List-Unsubscribe`` (https + mailto) and ``List-Unsubscribe-Post`` for one-click, both
    stopping ``campaign_id``'s mail."""
    token = unsubscribe_token(settings, supporter_id, campaign_id)
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "localhost"
    return {
        "List-Unsubscribe": (f"<{_url(settings, token)}>, "
                             f"<mailto:unsubscribe@{domain}?subject=unsubscribe-{token}>"),
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def unsubscribe_from_campaign(session: Session, supporter_id: int, campaign_id: int,
                              now: datetime | None = None) -> bool:
    """Withdraw the supporter's consent to one campaign's mail and cancel that campaign's open
    reminders; commits. Idempotent: True only when this call withdrew a consent."""
    withdrawn = withdraw_consent(session, supporter_id, campaign_id, via=VIA_LINK, now=now)
    session.commit()
    return bool(withdrawn)


def unsubscribe(session: Session, supporter_id: int, now: datetime | None = None) -> bool:
    """Stop all mail to the supporter, confirmations included: mark them unsubscribed, withdraw
    every consent and cancel every open reminder; commits.

    Idempotent: returns True only when this call changed the state.
    """
    now = now or datetime.now(UTC)
    changed = session.execute(
        update(Supporter)
        .where(Supporter.id == supporter_id, Supporter.unsubscribed_at.is_(None))
        .values(unsubscribed_at=now, updated_at=now)
    ).rowcount
    withdraw_consent(session, supporter_id, None, via=VIA_EVERYTHING, reason=UNSUBSCRIBED,
                     now=now)
    session.commit()
    return bool(changed)
