"""Posting CWC messages: ``POST {CWC_API_URL}/message?apikey=…`` with the XML as the body.

``CWC_API_URL`` is the versioned base (for example ``https://cwc.house.gov/v2``). A 200 is a
delivery; 429 and 5xx and network failures are ``Retryable``; other answers are ``Permanent``
with CWC's ``<Error>`` texts as the reason. ``validate`` posts to ``/validate`` instead, which
CWC checks without delivering (``actionwave doctor`` uses it).

The key travels in the query string, as CWC requires, so every text this client hands on
(reasons, CWC's answers) is scrubbed of it, and a ``requests`` error, whose text holds the URL,
is never passed on or chained: only its type and the host are.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from actionwave.core.channels import Permanent, RateLimited, Retryable
from actionwave.platform.config import Settings

TIMEOUT_SECONDS = 15.0
REDACTED = "[redacted]"
KEY_IN_QUERY = re.compile(r"(apikey=)[^&\s\"'<>]*", re.IGNORECASE)


@dataclass(frozen=True)
class CwcReceipt:
    """CWC's answer to an accepted message, to be recorded with the delivery."""

    status: int
    body: str


class CwcClient:
    def __init__(self, settings: Settings, session: requests.Session | None = None,
                 timeout: float = TIMEOUT_SECONDS) -> None:
        self.base = settings.cwc_api_url.rstrip("/")
        self.api_key = settings.cwc_api_key
        self.http = session or requests.Session()
        self.timeout = timeout

    @staticmethod
    def configured(settings: Settings) -> bool:
        return bool(settings.cwc_api_url and settings.cwc_api_key)

    def deliver(self, document: bytes) -> CwcReceipt:
        """Post one CWC document. Raises ``Retryable`` or ``Permanent``; never retries itself."""
        return self._post("message", document)

    def validate(self, document: bytes) -> CwcReceipt:
        """Ask CWC to check one document without delivering it; raises as ``deliver`` does."""
        return self._post("validate", document)

    def _post(self, action: str, document: bytes) -> CwcReceipt:
        host = urlsplit(self.base).netloc
        try:
            response = self.http.post(f"{self.base}/{action}", params={"apikey": self.api_key},
                                      data=document, headers={"Content-Type": "application/xml"},
                                      timeout=self.timeout)
        except requests.ConnectionError as exc:  # connect timeouts too: nothing was sent
            raise Retryable(f"CWC unreachable ({host}: {type(exc).__name__})") from None
        except requests.Timeout:
            error = Retryable(f"CWC timed out ({host})")
            error.in_doubt = True
            raise error from None
        except requests.RequestException as exc:
            raise Retryable(f"CWC request failed ({host}: {type(exc).__name__})") from None
        body = self.scrub(response.text)
        if response.status_code == 200:
            return CwcReceipt(200, body)
        reason = f"CWC {response.status_code}: {cwc_errors(body)}"
        if response.status_code == 429 or response.status_code >= 500:
            after_header = response.headers.get("Retry-After", "")
            after = float(after_header) if after_header.isdigit() else None
            if response.status_code == 429:
                raise RateLimited(reason, after=after)
            raise Retryable(reason, after=after)
        raise Permanent(reason)

    def scrub(self, text: str) -> str:
        """``text`` without the key, wherever it appears."""
        if self.api_key:
            text = text.replace(self.api_key, REDACTED)
        return KEY_IN_QUERY.sub(rf"\g<1>{REDACTED}", text)


def cwc_errors(body: str) -> str:
    """The ``<Error>`` texts of a CWC answer, or its start when it is not XML."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return body.strip()[:300] or "no reason given"
    texts = [e.text.strip() for e in root.iter("Error") if e.text and e.text.strip()]
    return "; ".join(texts) or "no reason given"
