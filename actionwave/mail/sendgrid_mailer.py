"""SendGrid's v3 mail send through the official client, with its errors mapped to our contract.

One ``send`` is one ``POST /v3/mail/send`` with a personalization per mail. Mails whose bodies
differ still share one request: each body travels as a per-personalization substitution, as long
as it fits SendGrid's 10,000-byte substitution budget. Mails that don't fit go in requests of
their own; if one of those fails after another was accepted, the exception's ``accepted`` names
the keys that did go out, so nothing is sent twice.
"""

from __future__ import annotations

import json
import time
import urllib.error
from collections.abc import Sequence
from email.utils import parseaddr
from typing import Any

from python_http_client import exceptions as http_errors
from sendgrid import SendGridAPIClient

from actionwave.core.channels import (
    OutgoingMail,
    Permanent,
    ProviderError,
    RateLimited,
    Retryable,
    SendOutcome,
)
from actionwave.platform.config import Settings

KEY_ARG = "aw_key"
MAX_PERSONALIZATIONS = 1000
SUBSTITUTION_BUDGET = 10_000
TEXT_TAG = "-aw-text-body-"
HTML_TAG = "-aw-html-body-"
TIMEOUT_SECONDS = 15.0
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class SendGridMailer:
    """The ``Mailer`` for SendGrid. Thread-safe: each call builds its own HTTP request."""

    def __init__(self, settings: Settings, timeout: float = TIMEOUT_SECONDS) -> None:
        self.client = SendGridAPIClient(api_key=settings.sendgrid_api_key,
                                        host=settings.sendgrid_api_host.rstrip("/"))
        self.client.client.timeout = timeout
        self.from_email, self.from_name = _address(settings.mail_from)

    def send(self, batch: Sequence[OutgoingMail]) -> str | None:
        """Send ``batch`` in as few requests as the content allows; returns the X-Message-Id.

        Raises ``Retryable`` (429, 5xx, timeouts; ``after`` from Retry-After/X-RateLimit-Reset)
        or ``Permanent`` (other 4xx, with SendGrid's ``errors[]`` message). Either carries
        ``accepted``: keys of mails already accepted in an earlier request of this call.
        """
        message_id: str | None = None
        accepted: list[str] = []
        for request in build_requests(batch, self.from_email, self.from_name):
            try:
                message_id = self._post(request) or message_id
            except ProviderError as exc:
                exc.accepted = tuple(accepted)
                raise
            accepted.extend(p["custom_args"][KEY_ARG] for p in request["personalizations"])
        return message_id

    def _post(self, body: dict[str, Any]) -> str | None:
        try:
            response = self.client.client.mail.send.post(request_body=body)
        except http_errors.HTTPError as exc:
            raise provider_error(exc.status_code, exc.body, exc.headers) from exc
        except (TimeoutError, urllib.error.URLError, ConnectionError) as exc:
            error = Retryable(f"SendGrid unreachable: {exc}")
            # Refused means nothing left; a timeout or a cut connection may follow a send.
            error.in_doubt = not isinstance(getattr(exc, "reason", exc), ConnectionRefusedError)
            raise error from exc
        return response.headers.get("X-Message-Id")

    def check(self, to: str) -> int:
        """One harmless call: a mail to ``to`` in SendGrid's sandbox mode, which SendGrid checks
        and never delivers. Returns the status (200); raises ``Retryable``/``Permanent``."""
        [body] = build_requests([OutgoingMail(key="doctor", to=to, subject="actionwave doctor",
                                              text="A sandbox-mode check; never delivered.",
                                              category="doctor")],
                                self.from_email, self.from_name)
        body["mail_settings"] = {"sandbox_mode": {"enable": True}}
        try:
            response = self.client.client.mail.send.post(request_body=body)
        except http_errors.HTTPError as exc:
            raise provider_error(exc.status_code, exc.body, exc.headers) from exc
        except (TimeoutError, urllib.error.URLError, ConnectionError) as exc:
            raise Retryable(f"SendGrid unreachable: {type(exc).__name__}") from exc
        return int(response.status_code)

    def lookup(self, key: str) -> SendOutcome:
        """Ask the Email Activity API whether a mail with our ``key`` was accepted.

        ``UNKNOWN`` when the API can't answer (no add-on, rate limited, unreachable).
        """
        query = f"unique_args['{KEY_ARG}']=\"{key}\""
        try:
            response = self.client.client.messages.get(query_params={"query": query,
                                                                     "limit": 10})
        except (http_errors.HTTPError, OSError):
            return SendOutcome.UNKNOWN
        try:
            messages = json.loads(response.body or b"{}").get("messages", [])
        except ValueError:
            return SendOutcome.UNKNOWN
        return SendOutcome.ACCEPTED if messages else SendOutcome.NOT_FOUND


def provider_error(status: int, body: bytes | str | None, headers: Any) -> ProviderError:
    """Map a SendGrid error answer to ``Retryable`` or ``Permanent``."""
    reason = f"SendGrid {status}: {_error_messages(body)}"
    if status == 429:
        return RateLimited(reason, after=retry_after(headers))
    if status in RETRYABLE_STATUSES:
        return Retryable(reason, after=retry_after(headers))
    return Permanent(reason)


def retry_after(headers: Any, now: float | None = None) -> float | None:
    """Seconds to wait, from ``Retry-After`` (seconds) or ``X-RateLimit-Reset`` (epoch seconds)."""
    if headers is None:
        return None
    raw = headers.get("Retry-After")
    if raw is not None and str(raw).strip().isdigit():
        return float(raw)
    reset = headers.get("X-RateLimit-Reset")
    if reset is not None and str(reset).strip().isdigit():
        return max(0.0, float(reset) - (now if now is not None else time.time()))
    return None


def _error_messages(body: bytes | str | None) -> str:
    try:
        errors = json.loads(body or b"{}").get("errors") or []
    except (ValueError, AttributeError):
        errors = []
    texts = []
    for error in errors:
        text = str(error.get("message", "")).strip()
        field = error.get("field")
        texts.append(f"{text} ({field})" if field and field != "null" else text)
    return "; ".join(t for t in texts if t) or "no reason given"


def build_requests(batch: Sequence[OutgoingMail], from_email: str,
                   from_name: str | None) -> list[dict[str, Any]]:
    """The mail-send bodies for ``batch``: shared-body groups first, then one per oversized mail."""
    shared: dict[tuple[Any, ...], list[OutgoingMail]] = {}
    alone: list[OutgoingMail] = []
    for mail in batch:
        if _substitution_size(mail) <= SUBSTITUTION_BUDGET:
            shared.setdefault((mail.reply_to, mail.category, not mail.html), []).append(mail)
        else:
            alone.append(mail)
    requests = []
    for group in shared.values():
        for start in range(0, len(group), MAX_PERSONALIZATIONS):
            chunk = group[start:start + MAX_PERSONALIZATIONS]
            requests.append(_request(chunk, from_email, from_name, substitute=True))
    requests.extend(_request([mail], from_email, from_name, substitute=False) for mail in alone)
    return requests


def _substitution_size(mail: OutgoingMail) -> int:
    size = len(TEXT_TAG) + len(mail.text.encode())
    if mail.html:
        size += len(HTML_TAG) + len(mail.html.encode())
    return size


def _request(mails: Sequence[OutgoingMail], from_email: str, from_name: str | None,
             substitute: bool) -> dict[str, Any]:
    first = mails[0]
    personalizations = []
    for mail in mails:
        to: dict[str, str] = {"email": mail.to}
        if mail.to_name:
            to["name"] = mail.to_name
        item: dict[str, Any] = {"to": [to], "subject": mail.subject,
                                "custom_args": {KEY_ARG: mail.key}}
        if mail.headers:
            item["headers"] = dict(mail.headers)
        if substitute:
            item["substitutions"] = {TEXT_TAG: mail.text}
            if mail.html:
                item["substitutions"][HTML_TAG] = mail.html
        personalizations.append(item)
    content = [{"type": "text/plain", "value": TEXT_TAG if substitute else first.text}]
    if first.html:  # an empty part is no part (SendGrid refuses one)
        content.append({"type": "text/html", "value": HTML_TAG if substitute else first.html})
    sender: dict[str, str] = {"email": from_email}
    if from_name:
        sender["name"] = from_name
    # SendGrid's schema requires a top-level subject; each personalization's own one wins.
    body: dict[str, Any] = {"personalizations": personalizations, "from": sender,
                            "subject": first.subject, "content": content,
                            "categories": [first.category]}
    if first.reply_to:
        body["reply_to"] = {"email": first.reply_to}
    return body


def _address(value: str) -> tuple[str, str | None]:
    name, email = parseaddr(value)
    return email, name or None
