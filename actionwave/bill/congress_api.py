"""The congress.gov API v3: a bill's actions, fetched only when the bill changed.

``CongressGovClient`` is the real ``BillSource``:
- the key travels in the ``X-Api-Key`` header, never in a URL;
- pages follow each answer's ``pagination.next`` (its query, on our own host: recordings strip the
  host, and the key is never sent to a host taken from an answer);
- the bill list with ``fromDateTime`` says whether the bill changed since the last poll;
- every request spends from a ``RequestBudget`` first, and a short ``Retry-After`` on 429 is
  waited out (a longer one is reported, for the watcher to honour across beat ticks);
- every wait for the server (to connect, for each part of the answer) is bounded by ``timeout``,
  so a server that hangs is a timeout, not a hung beat task.

Every failure is a ``BillSourceError`` of one ``kind`` (``ERROR_KINDS``); nothing else escapes,
whether the answer is an HTML page, a body cut short, or JSON of another shape.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from json import JSONDecodeError
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

import requests
from urllib3.exceptions import ReadTimeoutError

from actionwave.bill.budget import RequestBudget
from actionwave.core.channels import ProviderError

PAGE_LIMIT = 250  # the API's maximum page size
MAX_PAGES = 200
MAX_ANSWER_BYTES = 10 * 1024 * 1024
MAX_429_RETRIES = 2
MAX_INLINE_WAIT_SECONDS = 10.0
ERROR_KINDS = ("key_missing", "key_refused", "unreachable", "rate_limited", "server_error",
               "not_found", "bad_answer")


class BillSourceError(ProviderError):
    """A request for a bill's actions failed.

    ``kind`` is one of ``ERROR_KINDS``. ``reason`` says what happened in words fit for the
    console and logs (never the key). ``after`` is the wait the provider asked for, in seconds.
    """

    def __init__(self, kind: str, reason: str, after: float | None = None) -> None:
        assert kind in ERROR_KINDS, kind
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.after = after


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
        """All actions on ``bill`` (newest first), or None when it has not changed since ``since``.

        Each action has a valid ``actionDate`` and a ``text``. May block up to the source's
        timeout per request. Raises ``BillSourceError`` and nothing else.
        """
        ...


class CongressGovClient:
    """A congress.gov client on one ``requests.Session``; safe to reuse, not to share by threads."""

    def __init__(self, base_url: str, api_key: str, budget: RequestBudget,
                 timeout: float = 10.0, sleep: Callable[[float], None] = time.sleep,
                 page_limit: int = PAGE_LIMIT) -> None:
        self.base_url = base_url.rstrip("/")
        self.budget = budget
        self.timeout = timeout
        self.sleep = sleep
        self.page_limit = page_limit
        self.has_key = bool(api_key)
        self.session = requests.Session()
        self.session.headers.update({"X-Api-Key": api_key, "Accept": "application/json"})
        self.requests_made = 0

    def actions(self, bill: BillRef, since: datetime | None = None) -> list[dict[str, Any]] | None:
        if not self.has_key:
            raise BillSourceError("key_missing", "no congress.gov API key is configured")
        if since is not None and not self._changed_since(bill, since):
            return None
        actions = list(self._paged(f"{bill.path}/actions", "actions", {}))
        for index, action in enumerate(actions):
            _check_action(index, action)
        return actions

    def _changed_since(self, bill: BillRef, since: datetime) -> bool:
        """True if the bill list updated since ``since`` (``fromDateTime``) includes ``bill``."""
        params = {
            "fromDateTime": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "toDateTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        path = f"/bill/{bill.congress}/{bill.bill_type.lower()}"
        return any(
            isinstance(item, dict) and str(item.get("number")) == str(bill.number)
            for item in self._paged(path, "bills", params)
        )

    def _paged(self, path: str, key: str, params: dict[str, str]) -> Iterator[Any]:
        query = {**params, "offset": "0", "limit": str(self.page_limit), "format": "json"}
        for _ in range(MAX_PAGES):
            page = self._get(path, query)
            items = page.get(key)
            pagination = page.get("pagination") or {}
            if not isinstance(items, list) or not isinstance(pagination, dict):
                raise BillSourceError("bad_answer", f"congress.gov's answer has no '{key}' list")
            yield from items
            next_url = pagination.get("next")
            if not next_url:
                return
            query = _next_query(query, next_url)
        raise BillSourceError("bad_answer", f"congress.gov's pages did not end after {MAX_PAGES}")

    def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        for attempt in range(MAX_429_RETRIES + 1):
            wait = self.budget.take()
            if wait is not None:
                raise BillSourceError("rate_limited", "our hourly congress.gov request budget is "
                                                      "spent", after=wait)
            self.requests_made += 1
            status, headers, body = self._fetch(path, params)
            if status == 429:
                after = _retry_after(headers.get("Retry-After", ""))
                wait = after if after is not None else float(2 ** attempt)
                if attempt < MAX_429_RETRIES and wait <= MAX_INLINE_WAIT_SECONDS:
                    self.sleep(wait)
                    continue
                raise BillSourceError("rate_limited", "congress.gov rate limited the key (429)",
                                      after=after)
            if status != 200:
                raise _refusal(status, body)
            return _json_object(body, headers.get("Content-Type", ""))
        raise AssertionError("unreachable: the loop returns or raises")

    def _fetch(self, path: str, params: dict[str, str]) -> tuple[int, Any, bytes]:
        """One GET: status, headers and the whole body (at most ``MAX_ANSWER_BYTES``)."""
        try:
            with self.session.get(self.base_url + path, params=params, stream=True,
                                  timeout=self.timeout) as response:
                chunks, size = [], 0
                for chunk in response.iter_content(64 * 1024):
                    size += len(chunk)
                    if size > MAX_ANSWER_BYTES:
                        raise BillSourceError("bad_answer", "congress.gov's answer is too large")
                    chunks.append(chunk)
                return response.status_code, response.headers, b"".join(chunks)
        except requests.exceptions.ChunkedEncodingError as exc:
            raise BillSourceError("bad_answer", "congress.gov's answer was cut short") from exc
        except requests.Timeout as exc:
            raise _timed_out(self.timeout) from exc
        except requests.ConnectionError as exc:
            if isinstance(exc.args[0] if exc.args else None, ReadTimeoutError):
                raise _timed_out(self.timeout) from exc  # a stall in the middle of the body
            raise BillSourceError("unreachable",
                                  f"congress.gov unreachable ({type(exc).__name__})") from exc
        except requests.RequestException as exc:
            raise BillSourceError("unreachable",
                                  f"congress.gov unreachable ({type(exc).__name__})") from exc


def _timed_out(timeout: float) -> BillSourceError:
    return BillSourceError("unreachable", f"congress.gov did not answer within {timeout:g} s")


def _refusal(status: int, body: bytes) -> BillSourceError:
    """The error for a non-200 answer; api.data.gov names key problems in ``error.code``."""
    code = ""
    try:
        error = _json_object(body, "application/json").get("error")
        code = str(error.get("code") or "") if isinstance(error, dict) else ""
    except BillSourceError:
        pass  # an HTML or empty error page: the status alone decides
    named = f"{status} {code}".strip()
    if status in (401, 403):
        kind = "key_missing" if code == "API_KEY_MISSING" else "key_refused"
        return BillSourceError(kind, f"congress.gov refused the API key ({named})")
    if status == 404:
        return BillSourceError("not_found", f"congress.gov has no such bill ({named})")
    if status >= 500:
        return BillSourceError("server_error", f"congress.gov answered {named}")
    return BillSourceError("bad_answer", f"congress.gov answered {named}")


def _json_object(body: bytes, content_type: str) -> dict[str, Any]:
    try:
        decoded = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, JSONDecodeError) as exc:
        what = content_type.split(";")[0] or "no content type"
        raise BillSourceError("bad_answer", f"congress.gov's answer is not JSON ({what}, "
                                            f"{len(body)} bytes)") from exc
    if not isinstance(decoded, dict):
        raise BillSourceError("bad_answer", "congress.gov's answer is not a JSON object")
    return decoded


def _next_query(query: dict[str, str], next_url: Any) -> dict[str, str]:
    """Our query updated with ``pagination.next``'s; its offset must move forward."""
    if not isinstance(next_url, str):
        raise BillSourceError("bad_answer", "congress.gov's pagination.next is not a URL")
    following = {k: v for k, v in parse_qsl(urlsplit(next_url).query) if k != "api_key"}
    try:
        moves = int(following["offset"]) > int(query["offset"])
    except (KeyError, ValueError):
        moves = False
    if not moves:
        raise BillSourceError("bad_answer", "congress.gov's pagination.next does not move on")
    return {**query, **following}


def _check_action(index: int, action: Any) -> None:
    """An action the watcher can store: a dict with an ISO ``actionDate`` and a ``text``."""
    try:
        date.fromisoformat(action["actionDate"])
        valid = isinstance(action.get("text", ""), str)
    except (KeyError, TypeError, ValueError):
        valid = False
    if not valid:
        raise BillSourceError("bad_answer", f"congress.gov's action {index + 1} has no valid "
                                            f"actionDate or text")


def _retry_after(raw: str) -> float | None:
    """``Retry-After`` in seconds (a number or an HTTP date), or None when absent or unreadable."""
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(raw) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None
