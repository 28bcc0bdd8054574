"""What the benchmarks share: a throwaway PostgreSQL database, gunicorn servers and wrk runs."""

from __future__ import annotations

import bisect
import json
import os
import secrets
import shutil
import socket
import statistics
import string
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from actionwave.cli.runner import GUNICORN_CONFIG

ROOT = Path(__file__).resolve().parents[1]
SERVER_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")

WRK_SCRIPT = """
counter = 0
local thread_id = 0
setup = function(thread) thread:set("tid", thread_id); thread_id = thread_id + 1 end
request = function()
  counter = counter + 1
  local body = string.format(
    '{"email":"b%s-%d-%d@example.org","first_name":"Bench","last_name":"Mark","zip":"60601"}',
    RUN, tid, counter)
  return wrk.format("POST", PATH, {["Content-Type"] = "application/json"}, body)
end
done = function(summary, latency, requests)
  local grid = {}
  for i, p in ipairs(QUANTILES) do grid[i] = string.format("%d", latency:percentile(p)) end
  local out = string.format(
    '{"requests":%d,"duration_us":%d,"non2xx":%d,"socket_errors":%d,"max_us":%d,"quantiles_us":[%s]}',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency.max, table.concat(grid, ","))
  io.stderr:write("WRKJSON " .. out .. "\\n")
end
"""

# Percentiles each run reports, so that rounds can be pooled (``combine``): every whole one below
# 90, every tenth up to 99, every hundredth above.
QUANTILES = (*range(90), *(90 + i / 10 for i in range(90)), *(99 + i / 100 for i in range(100)))


def latency_figures(quantiles_ms: list[float], max_ms: float, count: int) -> dict[str, Any]:
    """A run's latency figures from its percentiles at ``QUANTILES``; ``quantiles_ms`` and
    ``count`` (the requests answered) let ``combine`` pool it with other rounds."""
    at = dict(zip(QUANTILES, quantiles_ms, strict=True))
    return {"p50_ms": at[50], "p99_ms": at[99], "max_ms": max_ms,
            "quantiles_ms": quantiles_ms, "count": count}


def pooled_percentile(runs: list[dict[str, Any]], q: float) -> float:
    """The ``q``th percentile of all the rounds' requests together. Each round tells, for a
    latency L, the highest of its ``QUANTILES`` at or below L: at least that share of its
    requests took L or less. The answer is the least L at which these shares, weighed by each
    round's count, reach ``q``: never below the true figure, and above it by at most one step
    of the grid."""
    grid = (0, *QUANTILES, 100)  # a share of 0 below a round's least figure, 100 at its max

    def requests_at_most(latency: float) -> float:
        return sum(r["count"] / 100 * grid[bisect.bisect_right(
            (*r["quantiles_ms"], r["max_ms"]), latency)] for r in runs)

    wanted = q / 100 * sum(r["count"] for r in runs)
    candidates = sorted({v for r in runs for v in (*r["quantiles_ms"], r["max_ms"])})
    return next(v for v in candidates if requests_at_most(v) >= wanted)


def combine(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Rounds of one load on one app: counts (``accepted``, ``errors``) summed; latencies over all
    the rounds' requests together (``pooled_percentile``; ``max_ms`` the highest); every other
    figure the median of the rounds."""
    combined = {key: round(statistics.median(r[key] for r in runs), 2)
                for key in runs[0] if key not in ("quantiles_ms", "count")}
    combined.update(
        accepted=sum(r["accepted"] for r in runs), errors=sum(r["errors"] for r in runs),
        p50_ms=round(pooled_percentile(runs, 50), 2), p99_ms=round(pooled_percentile(runs, 99), 2),
        max_ms=max(r["max_ms"] for r in runs))
    return combined


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def scratch_database() -> Iterator[str]:
    """A new, migrated PostgreSQL database, dropped afterwards."""
    from actionwave.platform.migrate import upgrade

    name = f"aw_bench_{secrets.token_hex(4)}"
    admin = sa.create_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@contextmanager
def gunicorn(app: str, env: dict[str, str], workers: int = 2) -> Iterator[str]:
    """Serve ``app`` (a gunicorn app spec) on a free port with the settings ``actionwave web``
    uses (``web/gunicorn_conf.py``, and the processes' metrics shared through a folder); yields
    the base URL."""
    port = free_port()
    binary = shutil.which("gunicorn") or str(Path(sys.executable).with_name("gunicorn"))
    with tempfile.TemporaryFile() as log, \
            tempfile.TemporaryDirectory(prefix="aw-metrics-") as metrics:
        process = subprocess.Popen(
            [binary, "--config", GUNICORN_CONFIG, "--bind", f"127.0.0.1:{port}",
             "--workers", str(workers), "--backlog", "2048", app],
            cwd=ROOT, env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": metrics, **env},
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        with _serving(process, port, log) as base:
            yield base


@contextmanager
def nginx_proxy(upstream: str | list[str], log_to: str | None = None) -> Iterator[str]:
    """``deploy/nginx/actionwave.conf.template`` (the compose proxy) in front of ``upstream``
    (``http://host:port``, or several: the balancer of many web hosts) on a free port; yields
    its base URL; ``log_to`` is a file for its access lines (none by default). Debian's nginx
    (1.22) has no ``resolve`` on upstream servers: the names here are addresses already.

    nginx runs one worker per core it owns, and wrk, on the same machine, owns one: with a
    worker on every core, the kernel's time slices between wrk and nginx set the tail (p99 5.4
    to 7.5 ms against 3.3 to 4.9 ms at 64 connections on 2 cores, measured 2026-11-29)."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    port = free_port()
    access_log = f"{log_to} actionwave" if log_to else "off"
    with tempfile.TemporaryDirectory(prefix="aw-nginx-") as tmp:
        os.chmod(tmp, 0o777)  # nginx workers run as an unprivileged user when started by root
        server = string.Template((ROOT / "deploy/nginx/actionwave.conf.template").read_text())
        upstreams = [upstream] if isinstance(upstream, str) else upstream
        servers = " ".join(f"server {u.removeprefix('http://')};" for u in upstreams)
        (Path(tmp) / "actionwave.conf").write_text(server.safe_substitute(
            WEB_SERVERS=servers, RESOLVER="127.0.0.1", LISTEN_PORT=str(port),
            CACHE_DIR=f"{tmp}/cache", ACCESS_LOG=access_log))
        temp_paths = " ".join(f"{kind}_temp_path {tmp}/{kind};"
                              for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        workers = max(1, (os.cpu_count() or 2) - 1)
        (Path(tmp) / "nginx.conf").write_text(
            f"daemon off; worker_processes {workers}; pid {tmp}/nginx.pid;"
            f" error_log {tmp}/error.log;\n"
            f"events {{ worker_connections 1024; }}\n"
            f"http {{ access_log off; {temp_paths} include {tmp}/actionwave.conf; }}\n")
        process = subprocess.Popen([binary, "-p", tmp, "-c", f"{tmp}/nginx.conf"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with _serving(process, port, None) as base:
            yield base


@contextmanager
def _serving(process: subprocess.Popen[bytes], port: int, log: Any) -> Iterator[str]:
    """Yield the base URL once ``process`` answers /healthz on ``port``; stop it afterwards."""
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, process, log)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_healthy(base: str, process: subprocess.Popen[bytes], log: Any) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                output = (log.seek(0), log.read()[-2000:])[1] if log else b""
                raise RuntimeError(f"{process.args[0]} did not start: {output!r}") from None
            time.sleep(0.1)


# The no-JavaScript form instead of JSON: one session's cookie and CSRF token for every request
# (``FORM_COOKIE``, ``FORM_TOKEN``); its answer is a redirect to the thanks page.
FORM_REQUEST = """
request = function()
  counter = counter + 1
  local body = string.format(
    'csrf_token=%s&email=f%s-%d-%d%%40example.org&first_name=Bench&last_name=Mark&zip=82001'
    .. '&locale=en&message=Please+act+on+H.R.+2661.', FORM_TOKEN, RUN, tid, counter)
  return wrk.format("POST", PATH, {["Content-Type"] = "application/x-www-form-urlencoded",
                                   ["Cookie"] = FORM_COOKIE}, body)
end
"""


def wrk(url: str, path: str, connections: int, seconds: int, threads: int = 1,
        form: tuple[str, str] | None = None) -> dict[str, float]:
    """Run wrk (closed loop) with unique submissions; returns requests, latency and errors.
    With ``form`` (a session cookie and its CSRF token), the campaign page's form posts.

    One thread drives thousands of submissions a second and leaves the servers the other core:
    our intake's p99 63 ms against 73 ms with two threads, the baseline's 95 ms either way
    (medians of five rounds, 2026-11-29)."""
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install wrk (or `make bench`)")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(f'PATH = "{path}"\nRUN = "{secrets.token_hex(3)}"\n'
                     f'QUANTILES = {{{", ".join(map(str, QUANTILES))}}}\n' + WRK_SCRIPT)
        if form:  # ``form``: (cookie, CSRF token); this request function replaces the JSON one
            cookie, token = form
            script.write(f'FORM_COOKIE = "{cookie}"\nFORM_TOKEN = "{token}"\n' + FORM_REQUEST)
    try:
        run = subprocess.run(
            ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
             "--timeout", "10s", "-s", script.name, url],
            capture_output=True, text=True, check=True,
        )
    finally:
        os.unlink(script.name)
    line = next(x for x in run.stderr.splitlines() if x.startswith("WRKJSON "))
    figures = json.loads(line.removeprefix("WRKJSON "))
    accepted = figures["requests"] - figures["non2xx"]
    return {
        "accepted": accepted,
        "accepted_per_s": accepted / (figures["duration_us"] / 1e6),
        **latency_figures([us / 1000 for us in figures["quantiles_us"]],
                          figures["max_us"] / 1000, figures["requests"]),
        "errors": figures["non2xx"] + figures["socket_errors"],
    }
