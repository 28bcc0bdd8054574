"""Security headers on every response, and the proxy trust that decides who the client is.

The policy is strict: scripts, styles, images and form posts only from our own origin, no inline
script, and no page may be framed (``frame-ancestors 'none'``) except views marked
``@embeddable``, which the origins listed in ``EMBED_ALLOWED_ORIGINS`` may frame.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from actionwave.config import Settings, SettingsError

F = TypeVar("F", bound=Callable[..., object])

EMBEDDABLE = "_actionwave_embeddable"
ORIGIN_RE = re.compile(r"^https?://[A-Za-z0-9.-]+(?::\d{1,5})?$")
BASE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'"
)
HSTS = "max-age=31536000; includeSubDomains"


def embeddable(view: F) -> F:
    """Let the origins in ``EMBED_ALLOWED_ORIGINS`` show this view in a frame."""
    setattr(view, EMBEDDABLE, True)
    return view


def embed_origins(settings: Settings) -> list[str]:
    """The configured origins; ``SettingsError`` for anything that is not a bare origin."""
    origins = settings.embed_allowed_origins.split()
    bad = [o for o in origins if not ORIGIN_RE.match(o)]
    if bad:
        raise SettingsError(f"EMBED_ALLOWED_ORIGINS: not an origin: {bad[0]!r}")
    return origins


def init_app(app: Flask, settings: Settings) -> None:
    """Trust ``TRUSTED_PROXIES`` hops of X-Forwarded-*, and add the headers to every response."""
    if settings.trusted_proxies > 0:
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    origins = embed_origins(settings)
    framed_by = " ".join(origins) if origins else "'none'"
    hsts = settings.public_url.startswith("https://")

    @app.after_request
    def security_headers(response: Response) -> Response:
        view = app.view_functions.get(request.endpoint or "")
        may_frame = getattr(view, EMBEDDABLE, False) and origins
        ancestors = framed_by if may_frame else "'none'"
        response.headers["Content-Security-Policy"] = f"{BASE_POLICY}; frame-ancestors {ancestors}"
        if not may_frame:
            response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if hsts:
            response.headers["Strict-Transport-Security"] = HSTS
        return response
