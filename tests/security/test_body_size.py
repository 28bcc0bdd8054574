"""Finding: a 5 MB body got a TCP reset from gunicorn, not a readable 413, and nginx's one
`client_max_body_size 64k` was smaller than the 8 MiB the webhook route accepts. Now an
oversized body gets a 413 with a JSON (API) or HTML (pages) error straight from gunicorn and
through nginx alike, and nginx's limit per location matches the app's."""

from __future__ import annotations

import http.client
import re
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from actionwave.platform.config import Settings
from bench.harness import nginx_proxy
from tests.support import web_processes
from web.webhooks import MAX_WEBHOOK_BYTES

ROOT = Path(__file__).resolve().parents[2]
NGINX = ROOT / "deploy" / "nginx" / "actionwave.conf.template"


@pytest.fixture
def web(settings: Settings, campaign_slug: str, committed_db, tmp_path: Path) -> Iterator[str]:
    with web_processes(replace(settings), tmp_path / "web.log", workers=1) as (port, _master):
        yield f"http://127.0.0.1:{port}"


def post(base: str, path: str, size: int, content_type: str) -> tuple[int, str, str]:
    """POST ``size`` bytes as one would; the status, content type and body of the answer."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=20)
    try:
        connection.request("POST", path, body=b"a" * size, headers={
            "Content-Type": content_type, "Accept": "text/html"})
        response = connection.getresponse()
        return response.status, response.headers.get("Content-Type", ""), response.read().decode()
    finally:
        connection.close()


def check_413s(base: str, slug: str) -> None:
    status, kind, body = post(base, f"/api/v1/campaigns/{slug}/actions", 5_000_000,
                              "application/json")
    assert (status, kind) == (413, "application/json") and '"field":"body"' in body.replace(" ", "")
    status, kind, body = post(base, f"/c/{slug}/act", 5_000_000,
                              "application/x-www-form-urlencoded")
    assert status == 413 and kind.startswith("text/html") and "<html" in body.lower()
    # The webhook route takes its 8 MiB: a 5 MB body reaches the app (and is refused unsigned).
    status, _kind, _body = post(base, "/webhooks/sendgrid", 5_000_000, "application/json")
    assert status == 401
    status, _kind, _body = post(base, "/webhooks/sendgrid", MAX_WEBHOOK_BYTES + 1,
                                "application/json")
    assert status == 413


@pytest.mark.timeout(120)
def test_an_oversized_body_gets_a_readable_413_from_gunicorn(web: str, campaign_slug: str):
    check_413s(web, campaign_slug)


@pytest.mark.timeout(120)
@pytest.mark.skipif(not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()),
                    reason="nginx is not installed (make test installs it)")
def test_an_oversized_body_gets_a_readable_413_through_nginx(web: str, campaign_slug: str):
    with nginx_proxy(web) as proxy:
        check_413s(proxy, campaign_slug)


def test_nginx_limits_match_the_app_limits_for_each_location(settings: Settings):
    text = NGINX.read_text()
    webhook = re.search(r"location \^~ /webhooks/ \{[^}]*client_max_body_size (\d+)([km]?);",
                        text)
    assert webhook, "the webhook location has its own client_max_body_size"
    unit = {"": 1, "k": 1024, "m": 1024 * 1024}
    assert int(webhook.group(1)) * unit[webhook.group(2)] == MAX_WEBHOOK_BYTES
