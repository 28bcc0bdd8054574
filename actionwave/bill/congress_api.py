"""The congress.gov API v3: a bill's actions, fetched only when the bill changed.

``CongressGovClient`` is the real ``BillSource``; it pages with ``limit``/``offset`` by following
``pagination.next``, asks the bill list with ``fromDateTime`` whether the bill changed since the
last poll, spends from a ``RequestBudget`` before every request and honours ``Retry-After`` on 429.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

import requests

from actionwave.bill.budget import RequestBudget
from actionwave.channels import Permanent, Retryable

PAGE_LIMIT = 250  # the API's maximum page size
MAX_429_RETRIES = 2
MAX_INLINE_WAIT_SECONDS = 10.0


@dataclass(frozen=True)
class BillRef:
    congress: int
    bill_type: str  # lower case, as in URLs: hr, s, hres, ...
    number: int

    @property
    def path(self) -> str:
        return f"/bill/{self.congress}/{self.bill_type.lower()}/{self.number}"


class BillSource(Protocol):
    def actions(self, bill: BillRef, since: datetime | None = None) -> list[dict[str, Any]] | None:
        """All actions on ``bill``, or None when it has not changed since ``since``.

        Raises ``Retryable`` (rate limited, budget spent, server trouble) or ``Permanent``.
        """
        ...


class CongressGovClient:
    """A congress.gov client on one ``requests.Session``; safe to reuse, not to share by threads."""

    def __init__(self, base_url: str, api_key: str, budget: RequestBudget,
                 timeout: float = 10.0, sleep: Any = time.sleep) -> None:
        self.base_url = base_url.rstrip("/")
        self.budget = budget
        self.timeout = timeout
        self.sleep = sleep
        self.session = requests.Session()
        self.session.headers.update({"X-Api-Key": api_key, "Accept": "application/json"})
        self.requests_made = 0

    def actions(self, bill: BillRef, since: datetime | None = None) -> list[dict[str, Any]] | None:
        if since is not None and not self._changed_since(bill, since):
            return None
        return list(self._paged(f"{bill.path}/actions", "actions", {}))

    def _changed_since(self, bill: BillRef, since: datetime) -> bool:
        """True if the bill list updated since ``since`` (``fromDateTime``) includes ``bill``."""
        params = {
            "fromDateTime": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "toDateTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        path = f"/bill/{bill.congress}/{bill.bill_type.lower()}"
        return any(
            str(item.get("number")) == str(bill.number)
            for item in self._paged(path, "bills", params)
        )

    def _paged(self, path: str, key: str, params: dict[str, str]) -> Any:
        offset = 0
        while True:
            page = self._get(path, {**params, "limit": str(PAGE_LIMIT), "offset": str(offset),
                                    "format": "json"})
            yield from page.get(key) or []
            next_url = (page.get("pagination") or {}).get("next")
            if not next_url:
                return
            # Follow the server's offset (the host in ``next`` is not trusted: recordings strip it).
            next_offset = parse_qs(urlsplit(next_url).query).get("offset", [None])[0]
            if next_offset is None or int(next_offset) <= offset:
                return
            offset = int(next_offset)

    def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        for attempt in range(MAX_429_RETRIES + 1):
            wait = self.budget.take()
            if wait is not None:
                raise Retryable("congress.gov hourly request budget spent", after=wait)
            self.requests_made += 1
            try:
                response = self.session.get(self.base_url + path, params=params,
                                            timeout=self.timeout)
            except requests.RequestException as exc:
                raise Retryable(f"congress.gov unreachable: {type(exc).__name__}") from exc
            if response.status_code == 429:
                after = _retry_after(response, attempt)
                if attempt < MAX_429_RETRIES and after <= MAX_INLINE_WAIT_SECONDS:
                    self.sleep(after)
                    continue
                raise Retryable("congress.gov rate limited the key", after=after)
            if response.status_code >= 500:
                raise Retryable(f"congress.gov answered {response.status_code}")
            if response.status_code != 200:
                raise Permanent(f"congress.gov answered {response.status_code}: "
                                f"{response.text[:200]}")
            return response.json()
        raise AssertionError("unreachable: the loop returns or raises")


def _retry_after(response: requests.Response, attempt: int) -> float:
    raw = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(raw))
    except ValueError:
        return float(2 ** attempt)
