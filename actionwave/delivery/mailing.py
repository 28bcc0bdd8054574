"""Mail deliveries: what a mail delivery's payload holds, and how claimed mail becomes requests.

A mail delivery's ``payload["mail"]`` holds the rendered message (see ``mail_payload``); the
recipient and the idempotency key are the delivery's own columns. Mail goes out in SendGrid
requests with many personalizations (up to 1,000): the mailer carries each body as a
per-personalization substitution, so mails share a request when they share reply-to, category
and format, and each body fits SendGrid's 10,000-byte substitution budget. The groups made here
are exactly the requests the mailer makes, so each costs one token of the rate limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from actionwave.core.channels import Mailer, OutgoingMail, SendOutcome
from actionwave.delivery.claims import Claimed

MAIL_CHANNEL = "email"
MAX_PERSONALIZATIONS = 1000
# Below SendGrid's 10,000 bytes, leaving room for the mailer's substitution tags.
SHARED_BODY_BYTES = 9_000


def mail_payload(
    subject: str,
    text: str,
    *,
    html: str | None = None,
    to_name: str | None = None,
    reply_to: str | None = None,
    headers: dict[str, str] | None = None,
    category: str = "action",
) -> dict[str, Any]:
    """The ``payload["mail"]`` document of a mail delivery."""
    return {
        "subject": subject, "text": text, "html": html, "to_name": to_name,
        "reply_to": reply_to, "headers": dict(headers or {}), "category": category,
    }


def outgoing_mail(delivery: Claimed) -> OutgoingMail:
    """The mail a claimed delivery sends. Raises ``KeyError`` if its payload has no mail."""
    mail = delivery.payload["mail"]
    return OutgoingMail(
        key=delivery.key, to=delivery.recipient, subject=mail["subject"], text=mail["text"],
        to_name=mail.get("to_name"), html=mail.get("html"), reply_to=mail.get("reply_to"),
        headers=dict(mail.get("headers") or {}), category=mail.get("category", "action"),
    )


def _request_key(mail: OutgoingMail, index: int) -> tuple[object, ...]:
    size = len(mail.text.encode()) + len((mail.html or "").encode())
    if size > SHARED_BODY_BYTES:
        return ("alone", index)
    return ("shared", mail.reply_to, mail.category, mail.html is None)


class MailSender:
    """Sends mail deliveries through a ``Mailer`` (SendGrid, or the dev outbox)."""

    provider = "sendgrid"

    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer

    def requests(self, claimed: Sequence[Claimed]) -> list[list[Claimed]]:
        """Split ``claimed`` into provider requests of at most 1,000 mails that can share one."""
        groups: dict[tuple[object, ...], list[Claimed]] = {}
        for index, delivery in enumerate(claimed):
            groups.setdefault(_request_key(outgoing_mail(delivery), index), []).append(delivery)
        return [
            group[start:start + MAX_PERSONALIZATIONS]
            for group in groups.values()
            for start in range(0, len(group), MAX_PERSONALIZATIONS)
        ]

    def send(self, request: Sequence[Claimed]) -> str | None:
        """One provider request. Raises ``Retryable`` or ``Permanent`` from the mailer."""
        return self.mailer.send([outgoing_mail(delivery) for delivery in request])

    def lookup(self, key: str) -> SendOutcome:
        return self.mailer.lookup(key)
