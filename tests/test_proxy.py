"""The nginx proxy docker-compose puts in front of the web (deploy/nginx): the public ZIP answers
of /api/v1/legislators come from its cache, answers that used a district or address never do."""

from __future__ import annotations

import shutil
import urllib.request
from pathlib import Path

import pytest

from bench.harness import nginx_proxy

pytestmark = pytest.mark.skipif(
    not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()),
    reason="nginx is not installed (make test installs it)",
)


def fetch(url: str) -> tuple[str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.headers["X-Cache-Status"], response.read()


def test_zip_answers_are_cached_and_personal_answers_are_not(live_server: str):
    with nginx_proxy(live_server) as proxy:
        first = fetch(f"{proxy}/api/v1/legislators?zip=82001")
        second = fetch(f"{proxy}/api/v1/legislators?zip=82001")
        assert (first[0], second[0]) == ("MISS", "HIT")
        assert first[1] == second[1] and b'"senators"' in first[1]

        for _ in range(2):
            status, body = fetch(f"{proxy}/api/v1/legislators?zip=02139&district=7")
            assert status == "BYPASS" and b'"representatives"' in body


def test_submissions_pass_through_the_proxy(live_server: str, campaign_slug: str, committed_db):
    with nginx_proxy(live_server) as proxy:
        request = urllib.request.Request(
            f"{proxy}/api/v1/campaigns/{campaign_slug}/actions", method="POST",
            data=b'{"email":"proxy@example.org","first_name":"Pro","last_name":"Xy",'
                 b'"zip":"82001"}', headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 202 and response.headers["X-Cache-Status"] is None
