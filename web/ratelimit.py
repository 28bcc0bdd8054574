"""Abuse limits on the public submission endpoints, per client address and per email address.

Counters live in Redis (``REDIS_URL``, keys prefixed with ``NAMESPACE``) so every web process
shares them; the embedded default keeps them in memory. Keys are salted hashes, never a raw address:
what Redis holds expires with the window and identifies no one. If Redis is unreachable the
limits fall back to per-process memory rather than refusing supporters.
"""

from __future__ import annotations

import hashlib
import math
import time

from flask import Flask, Response, request
from flask_limiter import Limiter

from actionwave.config import Settings
from web.api import ip_hash
from web.context import services

# The endpoints a supporter submits to: the JSON API and the no-JavaScript form.
SUBMISSION_ENDPOINTS = ("api.submit_action", "public.submit_form")
TOO_MANY = "Too many submissions from here; wait a little and try again."


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


def email_key() -> str:
    """A salted hash of the submitted email: one counter per person, no address in Redis."""
    secret = services().settings.secret_key.encode()
    return "email:" + hashlib.sha256(secret + submitted_email().encode()).hexdigest()


def ip_key() -> str:
    return "ip:" + ip_hash()


def storage_uri(settings: Settings) -> str:
    return settings.redis_url or "memory://"


def init_app(app: Flask, settings: Settings) -> Limiter:
    """Attach the limits to the submission views already registered on ``app``.

    An empty ``RATE_LIMIT_PER_IP`` or ``RATE_LIMIT_PER_EMAIL`` turns that limit off.
    """
    limiter = Limiter(
        key_func=ip_key,
        app=app,
        storage_uri=storage_uri(settings),
        storage_options={"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
        key_prefix=settings.namespace,
        strategy="moving-window",
        headers_enabled=False,  # its Retry-After would also stretch the database's 503
        swallow_errors=True,
        in_memory_fallback_enabled=True,
    )
    limits = []
    if settings.rate_limit_per_email:
        limits.append(limiter.shared_limit(settings.rate_limit_per_email, scope="submit-email",
                                           key_func=email_key, error_message=TOO_MANY,
                                           exempt_when=lambda: not submitted_email()))
    if settings.rate_limit_per_ip:
        limits.append(limiter.shared_limit(settings.rate_limit_per_ip, scope="submit-ip",
                                           key_func=ip_key, error_message=TOO_MANY))
    for endpoint in SUBMISSION_ENDPOINTS:
        for limit in limits:
            app.view_functions[endpoint] = limit(app.view_functions[endpoint])

    @app.after_request
    def retry_after(response: Response) -> Response:
        breached = limiter.current_limit
        if response.status_code == 429 and breached is not None:
            wait = math.ceil(breached.reset_at - time.time())
            response.headers["Retry-After"] = str(max(wait, 1))
        return response

    return limiter
