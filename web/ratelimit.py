"""Abuse limits: public submissions per client address and per email address, legislator
lookups per client address (stricter for street addresses, which reach the geocoder), template
previews per user.

They are token buckets in Redis (the same Lua-scripted buckets as the delivery engine's global
limits, ``actionwave.platform.ratelimit``), so every web process shares them; the embedded
default keeps them in memory. Keys are salted hashes, never a raw address: what Redis holds expires
with the bucket and identifies no one. If Redis is unreachable, supporters are let through (and
the outage is logged) rather than refused.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

import redis
from flask import Flask, Response, make_response, render_template, request

from actionwave.platform.batching import Batcher, BatchTimeout
from actionwave.platform.config import Settings, SettingsError
from actionwave.platform.ratelimit import RateLimiter, make_rate_limiter
from web.api import ip_hash
from web.context import services
from web.errors import error_response, wants_json

log = logging.getLogger(__name__)

# The endpoints a supporter submits to: the JSON API and the no-JavaScript form.
SUBMISSION_ENDPOINTS = ("api.submit_action", "public.submit_form", "embed.submit_form")
PREVIEW_ENDPOINTS = ("console.preview_template",)
# Legislator lookups: the API, and step 1 of the campaign pages (``?zip=``).
LOOKUP_ENDPOINTS = ("legislators.get_legislators", "public.campaign_page", "embed.campaign_page")
TOO_MANY = "Too many submissions from here; wait a little and try again."
TOO_MANY_PREVIEWS = "Too many previews; wait a little and try again."
TOO_MANY_LOOKUPS = "Too many lookups from here; wait a little and try again."
REDIS_TIMEOUT_SECONDS = 0.25
BATCH_WAIT_SECONDS = 1.0
Bucket = tuple[str, float, int]  # name, tokens per minute, burst
PERIOD_MINUTES = {"second": 1 / 60, "minute": 1.0, "hour": 60.0, "day": 1440.0}
LIMIT_RE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour|day)\s*$")


class BatchedLimiter:
    """Takes the buckets of every request waiting, across the process's threads, in one script
    call (``actionwave.platform.batching``): one Redis round trip serves many submissions."""

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter
        self.batcher: Batcher[list[Bucket], list[float]] = Batcher(
            self._take_all, name="abuse-limits", wait_seconds=BATCH_WAIT_SECONDS)

    def take_each(self, buckets: list[Bucket]) -> list[float]:
        return self.batcher.submit(buckets)

    def _take_all(self, requests: list[list[Bucket]]) -> list[list[float]]:
        waits = iter(self.limiter.take_each([bucket for buckets in requests for bucket in buckets]))
        return [[next(waits) for _ in buckets] for buckets in requests]


@dataclass(frozen=True)
class Limit:
    """``count`` requests per period: a bucket of ``count`` tokens refilled over the period."""

    scope: str
    count: int
    per_minute: float
    key: Callable[[], str | None]
    applies: Callable[[], bool] = lambda: is_request("POST", SUBMISSION_ENDPOINTS)
    message: str = TOO_MANY


def is_request(method: str, endpoints: tuple[str, ...], arg: str | None = None) -> bool:
    """This request is a ``method`` to one of ``endpoints`` (with a non-empty ``arg``)."""
    return (request.method == method and request.endpoint in endpoints
            and (arg is None or bool(request.args.get(arg))))


def parse_limit(scope: str, variable: str, text: str,
                key: Callable[[], str | None]) -> Limit | None:
    """``"30/minute"`` → a limit; ``""`` → none. Raises ``SettingsError`` naming the variable."""
    if not text.strip():
        return None
    match = LIMIT_RE.match(text)
    if not match or int(match.group(1)) < 1:
        raise SettingsError(f"{variable}: expected 'N/second|minute|hour|day', got {text!r}")
    count = int(match.group(1))
    return Limit(scope, count, count / PERIOD_MINUTES[match.group(2)], key)


def submitted_email() -> str:
    """The email field of the request body, normalised; empty when there is none."""
    value = None
    if request.is_json:
        try:
            data = request.get_json(silent=True)
        except RecursionError:  # absurdly nested JSON: the view refuses it, no email here
            data = None
        value = data.get("email") if isinstance(data, dict) else None
    elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        value = request.form.get("email")
    return value.strip().lower() if isinstance(value, str) else ""


def email_key() -> str | None:
    """A salted hash of the submitted email: one bucket per person, no address in Redis."""
    email = submitted_email()
    if not email:
        return None
    secret = services().settings.secret_key.encode()
    # surrogatepass: a lone surrogate must not break the hash; the view then refuses the field.
    return hashlib.sha256(secret + email.encode("utf-8", "surrogatepass")).hexdigest()


def user_key() -> str | None:
    """The signed-in user (or token holder) asking; None when anonymous (the view refuses)."""
    from web.console.auth import current_principal

    principal = current_principal()
    return None if principal is None else f"{principal.user_id}:{principal.label}"


def init_app(app: Flask, settings: Settings) -> None:
    """Check the limits before the limited views run (and before their CSRF check, so refused
    form posts count too). An empty ``RATE_LIMIT_*`` setting turns that limit off."""
    preview = parse_limit("preview-user", "RATE_LIMIT_PREVIEW", settings.rate_limit_preview,
                          user_key)
    lookups = parse_limit("lookup-ip", "RATE_LIMIT_LOOKUPS", settings.rate_limit_lookups,
                          ip_hash)
    addresses = parse_limit("address-ip", "RATE_LIMIT_ADDRESS_LOOKUPS",
                            settings.rate_limit_address_lookups, ip_hash)
    limits = [limit for limit in (
        parse_limit("submit-ip", "RATE_LIMIT_PER_IP", settings.rate_limit_per_ip, ip_hash),
        parse_limit("submit-email", "RATE_LIMIT_PER_EMAIL", settings.rate_limit_per_email,
                    email_key),
        preview and replace(preview, message=TOO_MANY_PREVIEWS,
                            applies=lambda: is_request("POST", PREVIEW_ENDPOINTS)),
        lookups and replace(lookups, message=TOO_MANY_LOOKUPS,
                            applies=lambda: is_request("GET", LOOKUP_ENDPOINTS, "zip")),
        addresses and replace(addresses, message=TOO_MANY_LOOKUPS,
                              applies=lambda: is_request("GET", LOOKUP_ENDPOINTS, "address")),
    ) if limit is not None]
    if not limits:
        return
    limiter = BatchedLimiter(make_rate_limiter(settings, timeout=REDIS_TIMEOUT_SECONDS))

    @app.before_request
    def enforce_limits() -> tuple[Response, int] | None:
        mine = [limit for limit in limits if limit.applies()]
        if not mine:
            return None
        buckets = [(f"{limit.scope}:{key}", limit.per_minute, limit.count)
                   for limit in mine if (key := limit.key()) is not None]
        if not buckets:
            return None
        try:
            wait = max(limiter.take_each(buckets), default=0.0)
        except (redis.RedisError, BatchTimeout) as exc:
            log.warning("abuse limits skipped, Redis unreachable: %s", type(exc).__name__)
            return None
        if wait > 0:
            if wants_json() or request.method == "POST":
                response, status = error_response(429, None, mine[0].message)
            else:  # a campaign page asked with ?zip=: a page, not JSON
                response = make_response(render_template("error.html", status=429,
                                                         message=mine[0].message))
                status = 429
            response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
            return response, status
        return None
