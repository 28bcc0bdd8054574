"""Behind a load balancer and nginx (two proxy hops), each supporter keeps their own per-address
limit: the balancer's address is a trusted hop, the supporter's is the client
(``TRUSTED_PROXIES=2``, ``TRUSTED_PROXY_ADDRESSES``)."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from bench.harness import free_port, nginx_proxy
from tests.organizer_support import served

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
pytestmark = pytest.mark.skipif(not Path(NGINX).exists(),
                                reason="nginx is not installed (make test installs it)")


@contextmanager
def balancer(upstream: str) -> Iterator[int]:
    """A load balancer in front of ``upstream`` (host:port): it adds the supporter's address
    to X-Forwarded-For, as a cloud balancer does; yields its port."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="aw-balancer-") as tmp:
        os.chmod(tmp, 0o777)
        temp_paths = " ".join(f"{kind}_temp_path {tmp}/{kind};"
                              for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (Path(tmp) / "nginx.conf").write_text(
            f"daemon off; worker_processes 1; pid {tmp}/nginx.pid; error_log {tmp}/error.log;\n"
            "events { worker_connections 256; }\n"
            f"http {{ access_log off; {temp_paths}\n"
            f"  server {{ listen 127.0.0.1:{port};\n"
            f"    location / {{ proxy_pass http://{upstream};\n"
            "      proxy_set_header Host $http_host;\n"
            "      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; } } }\n")
        process = subprocess.Popen([NGINX, "-p", tmp, "-c", f"{tmp}/nginx.conf"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                with socket.socket() as probe:
                    if probe.connect_ex(("127.0.0.1", port)) == 0:
                        break
                time.sleep(0.05)
            yield port
        finally:
            process.terminate()
            process.wait(timeout=10)


def submit(port: int, path: str, source: str, forwarded_for: str | None = None) -> int:
    """POST a new supporter's submission from the address ``source`` (127.0.0.x)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10,
                                            source_address=(source, 0))
    body = json.dumps({"email": f"{uuid.uuid4().hex[:10]}@example.org", "first_name": "Kit",
                       "last_name": "Wong", "zip": "60601"})
    headers = {"Content-Type": "application/json"}
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    connection.request("POST", path, body=body, headers=headers)
    status = connection.getresponse().status
    connection.close()
    return status


def test_two_supporters_behind_one_balancer_keep_their_own_limits(settings, services,
                                                                  campaign_slug, committed_db):
    from web import create_app

    limited = replace(settings, namespace=f"{settings.namespace}-{uuid.uuid4().hex[:6]}",
                      rate_limit_per_ip="3/minute", rate_limit_per_email="",
                      trusted_proxies=2, trusted_proxy_addresses="127.0.0.1/32")
    path = f"/api/v1/campaigns/{campaign_slug}/actions"
    with served(create_app(limited, services)) as app_url, nginx_proxy(app_url) as proxy, \
            balancer(proxy.removeprefix("http://")) as port:
        first = [submit(port, path, "127.0.0.2") for _ in range(4)]
        second = [submit(port, path, "127.0.0.3") for _ in range(3)]
        # A supporter naming someone else in X-Forwarded-For still spends their own tokens.
        spoofed = [submit(port, path, "127.0.0.4", forwarded_for="127.0.0.3") for _ in range(3)]
    assert first == [202, 202, 202, 429]
    assert second == [202, 202, 202]
    assert spoofed == [202, 202, 202]


def test_a_peer_outside_the_trusted_addresses_is_the_client(settings):
    from web.security import TrustedProxies

    proxies = TrustedProxies(lambda environ, start: None, 2,
                             [__import__("ipaddress").ip_network("10.0.0.0/8")])
    assert proxies.client("10.0.0.5", "203.0.113.7, 10.0.0.9") == "203.0.113.7"
    assert proxies.client("10.0.0.5", "198.51.100.1, 203.0.113.7") == "203.0.113.7"
    assert proxies.client("10.0.0.5", "") == "10.0.0.5"
    assert not proxies.trusted("192.0.2.1")  # such a peer's header is not read at all
