"""Security headers on every response, frame rules with an embed allowance, proxy trust."""

from __future__ import annotations

from dataclasses import replace

import pytest
from flask import Flask

from actionwave.platform.config import Settings, SettingsError
from actionwave.system.services import Services
from web.security import embeddable


def make_app(settings: Settings, services: Services, **changes: object) -> Flask:
    """An app with changed settings and one embeddable test view at /embed-test."""
    from web import create_app

    app = create_app(replace(settings, **changes), services)

    @app.get("/embed-test")
    @embeddable
    def embed_test() -> str:
        return "embedded"

    return app


def test_every_page_gets_a_strict_policy_and_no_framing(client, campaign_slug, committed_db):
    for path in (f"/c/{campaign_slug}", "/healthz", "/api/v1/openapi.json", "/no-such-page"):
        headers = client.get(path).headers
        policy = headers["Content-Security-Policy"]
        assert "script-src 'self';" in policy and "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy and headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in headers  # public_url is plain http here


def test_the_campaign_page_has_no_inline_script(client, campaign_slug, committed_db):
    import re

    page = client.get(f"/c/{campaign_slug}?zip=60601").get_data(as_text=True)
    for attributes, body in re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S):
        # Only external files, or inert JSON data (never executed, so CSP allows it).
        assert "src=" in attributes or 'type="application/json"' in attributes, attributes
        assert "src=" not in attributes or not body.strip()
    assert not re.search(r"\son[a-z]+=", page), "an inline event handler"


def test_hsts_only_behind_https(settings, services):
    app = make_app(settings, services, public_url="https://act.example.org")
    hsts = app.test_client().get("/healthz").headers["Strict-Transport-Security"]
    assert hsts.startswith("max-age=31536000")


def test_embeddable_view_may_be_framed_by_the_configured_origins_only(settings, services):
    app = make_app(settings, services,
                   embed_allowed_origins="https://partner.example https://b.example:8443")
    client = app.test_client()
    embed = client.get("/embed-test").headers
    assert embed["Content-Security-Policy"].endswith(
        "frame-ancestors https://partner.example https://b.example:8443")
    assert "X-Frame-Options" not in embed
    other = client.get("/healthz").headers
    assert "frame-ancestors 'none'" in other["Content-Security-Policy"]


def test_embeddable_view_stays_unframeable_without_configured_origins(settings, services):
    headers = make_app(settings, services).test_client().get("/embed-test").headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("bad", ["*", "https://a.example; script-src *", "partner.example"])
def test_embed_origins_that_could_widen_the_policy_are_refused(settings, services, bad):
    with pytest.raises(SettingsError):
        make_app(settings, services, embed_allowed_origins=bad)
