"""Security headers on every response, and the proxy trust that decides who the client is.

The policy is strict: scripts, styles, images and form posts only from our own origin, no inline
script, and no page may be framed (``frame-ancestors 'none'``) except views marked
``@embeddable``, which the origins listed in ``EMBED_ALLOWED_ORIGINS`` may frame.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from actionwave.platform.config import Settings, SettingsError

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


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def proxy_networks(settings: Settings) -> list[Network]:
    """``TRUSTED_PROXY_ADDRESSES`` parsed; ``SettingsError`` naming it for a bad entry."""
    try:
        return [ipaddress.ip_network(entry.strip(), strict=False)
                for entry in settings.trusted_proxy_addresses.split(",") if entry.strip()]
    except ValueError as exc:
        raise SettingsError(f"TRUSTED_PROXY_ADDRESSES: {exc}") from exc


class TrustedProxies:
    """Who the client is behind ``hops`` proxies (a balancer, then nginx: 2).

    Walking X-Forwarded-For from the right, each entry is believed only while the hop that
    added it is a trusted proxy: the peer, then each proxy named. With ``networks`` empty every
    hop up to ``hops`` is trusted (the peer is then our own proxy by construction, as in
    docker-compose, where only nginx reaches the web). X-Forwarded-Proto and -Host are taken
    from a trusted peer only.
    """

    def __init__(self, app: Any, hops: int, networks: Iterable[Network]) -> None:
        self.app = app
        self.hops = hops
        self.networks = list(networks)
        self.forwarded = ProxyFix(app, x_for=0, x_proto=hops, x_host=hops)

    def trusted(self, address: str) -> bool:
        if not self.networks:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def client(self, peer: str, forwarded_for: str) -> str:
        entries = [entry.strip() for entry in forwarded_for.split(",") if entry.strip()]
        client = peer
        for _ in range(self.hops):
            if not entries or not self.trusted(client):
                break
            client = entries.pop()
        return client

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        peer = environ.get("REMOTE_ADDR", "")
        if not self.trusted(peer):
            return self.app(environ, start_response)
        environ["REMOTE_ADDR"] = self.client(peer, environ.get("HTTP_X_FORWARDED_FOR", ""))
        return self.forwarded(environ, start_response)


def init_app(app: Flask, settings: Settings) -> None:
    """Trust ``TRUSTED_PROXIES`` hops of X-Forwarded-* from ``TRUSTED_PROXY_ADDRESSES``, and add
    the headers to every response."""
    networks = proxy_networks(settings)
    if settings.trusted_proxies > 0:
        app.wsgi_app = TrustedProxies(app.wsgi_app, settings.trusted_proxies, networks)  # type: ignore[method-assign]
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
