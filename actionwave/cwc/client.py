"""Posting CWC messages: ``POST {CWC_API_URL}/message?apikey=…`` with the XML as the body.

``CWC_API_URL`` is the versioned base (for example ``https://cwc.house.gov/v2``). A 200 is a
delivery; 429 and 5xx and network failures are ``Retryable``; other answers are ``Permanent``
with CWC's ``<Error>`` texts as the reason.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

import requests

from actionwave.channels import Permanent, RateLimited, Retryable
from actionwave.config import Settings

TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class CwcReceipt:
    """CWC's answer to an accepted message, to be recorded with the delivery."""

    status: int
    body: str


class CwcClient:
    def __init__(self, settings: Settings, session: requests.Session | None = None) -> None:
        self.url = settings.cwc_api_url.rstrip("/") + "/message"
        self.api_key = settings.cwc_api_key
        self.http = session or requests.Session()

    @staticmethod
    def configured(settings: Settings) -> bool:
        return bool(settings.cwc_api_url and settings.cwc_api_key)

    def deliver(self, document: bytes) -> CwcReceipt:
        """Post one CWC document. Raises ``Retryable`` or ``Permanent``; never retries itself."""
        try:
            response = self.http.post(self.url, params={"apikey": self.api_key}, data=document,
                                      headers={"Content-Type": "application/xml"},
                                      timeout=TIMEOUT_SECONDS)
        except requests.ConnectionError as exc:
            raise Retryable(f"CWC unreachable: {exc}") from exc
        except requests.Timeout as exc:
            error = Retryable(f"CWC timed out: {exc}")
            error.in_doubt = True
            raise error from exc
        if response.status_code == 200:
            return CwcReceipt(200, response.text)
        reason = f"CWC {response.status_code}: {cwc_errors(response.text)}"
        if response.status_code == 429 or response.status_code >= 500:
            after_header = response.headers.get("Retry-After", "")
            after = float(after_header) if after_header.isdigit() else None
            if response.status_code == 429:
                raise RateLimited(reason, after=after)
            raise Retryable(reason, after=after)
        raise Permanent(reason)


def cwc_errors(body: str) -> str:
    """The ``<Error>`` texts of a CWC answer, or its start when it is not XML."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return body.strip()[:300] or "no reason given"
    texts = [e.text.strip() for e in root.iter("Error") if e.text and e.text.strip()]
    return "; ".join(texts) or "no reason given"
