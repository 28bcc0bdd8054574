"""Benchmark of the ZIP lookup: prints one JSON line.

    .venv/bin/python bench/lookup.py [--quick] [--database-url URL] [--source PATH] [--no-http]

Keys: ``sync_s`` (a full ``data sync`` of the source), ``index_mb`` (memory the ZIP index holds,
by ``tracemalloc``), ``lookups_per_s``, ``p50_us``, ``p99_us`` (in-process lookups through the index
cache, as the web app does them), and with HTTP ``http_rps``, ``http_p50_ms``, ``http_p99_ms``
(``wrk`` at 64 connections against gunicorn as ``actionwave web`` runs it, after a warm-up) and
``http_open_p50_ms``, ``http_open_p99_ms`` (open loop at ``--rate`` requests/s over 64
connections), and where nginx is installed ``http_proxy_rps``, ``http_proxy_p50_ms``,
``http_proxy_p99_ms`` (wrk through ``deploy/nginx``, the proxy docker-compose runs in front) and
``http_proxy_open_p50_ms``, ``http_proxy_open_p99_ms`` (open loop through it).
Without ``--database-url`` a throwaway SQLite database is used.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from actionwave.legislators.index import IndexCache  # noqa: E402
from actionwave.legislators.lookup import find_legislators  # noqa: E402
from actionwave.legislators.sources import read_source  # noqa: E402
from actionwave.legislators.sync import store_snapshot  # noqa: E402
from actionwave.platform.config import Settings  # noqa: E402
from actionwave.platform.migrate import upgrade  # noqa: E402
from actionwave.system.services import Services  # noqa: E402
from bench.harness import gunicorn, nginx_proxy  # noqa: E402
from bench.openloop import open_loop_get  # noqa: E402

# The requests are formatted once, in init: wrk shares the two cores with the server, and a
# wrk.format per request costs it about a tenth of its CPU time (/usr/bin/time, 2026-11-29).
WRK_SCRIPT = """
init = function(args)
  requests = {}
  for i, zip in ipairs({%s}) do
    requests[i] = wrk.format("GET", "/api/v1/legislators?zip=" .. zip)
  end
end
request = function()
  return requests[math.random(#requests)]
end
"""


def measure_lookups(cache: IndexCache, zips: list[str], count: int) -> dict[str, float]:
    sample = [random.choice(zips) for _ in range(count)]
    started = time.perf_counter()
    for zcta in sample:
        find_legislators(cache.get(), zcta)
    per_s = count / (time.perf_counter() - started)
    clock = time.perf_counter_ns
    latencies = []
    for zcta in sample:
        before = clock()
        find_legislators(cache.get(), zcta)
        latencies.append(clock() - before)
    latencies.sort()
    return {"lookups_per_s": round(per_s),
            "p50_us": round(latencies[len(latencies) // 2] / 1000, 2),
            "p99_us": round(latencies[int(len(latencies) * 0.99)] / 1000, 2)}


def wrk_lookups(url: str, zips: list[str], seconds: int) -> dict[str, float]:
    """wrk, closed loop at 64 connections, random ZIPs from ``zips``; after a warm-up. One wrk
    thread: the load generator owns one of the machine's cores (``harness.nginx_proxy``)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % ",".join(f'"{z}"' for z in zips))

    def run(duration: int) -> str:
        return subprocess.run(
            ["wrk", "-t", "1", "-c", "64", "-d", f"{duration}s", "--latency", "-s",
             script.name, url], capture_output=True, text=True, check=True).stdout

    try:
        run(3)  # warm-up: each worker builds its index; a proxy fills its cache
        output = run(seconds)
    finally:
        os.unlink(script.name)

    def latency(label: str) -> float:
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", output).groups()  # type: ignore[union-attr]
        return round(float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit], 2)

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    return {"rps": round(rps), "p50_ms": latency("50%"), "p99_ms": latency("99%")}


def measure_http(settings: Settings, zips: list[str], seconds: int,
                 rate: float) -> dict[str, float]:
    """Straight to gunicorn: closed loop (wrk, 64 connections: the most it answers, and the
    latency at that saturation) and open loop (``rate`` requests/s over 64 connections, each
    timed from when it was due: the latency a supporter sees at that load). Then, when nginx is
    installed, closed loop through the proxy that docker-compose puts in front (its cache)."""
    sample = random.sample(zips, min(2000, len(zips)))

    def open_loop(url: str, prefix: str) -> dict[str, float]:
        summary = open_loop_get(url, rate, seconds, 64, lambda n: (
            f"/api/v1/legislators?zip={sample[n % len(sample)]}")).summary()
        return {f"{prefix}_open_p50_ms": summary["p50_ms"],  # type: ignore[dict-item]
                f"{prefix}_open_p99_ms": summary["p99_ms"],
                f"{prefix}_open_errors": sum(summary["errors"].values())}  # type: ignore[union-attr]

    result: dict[str, float] = {"http_open_rate_per_s": rate}
    with gunicorn("web:create_app()", settings.to_env()) as url:
        result.update({f"http_{k}": v for k, v in wrk_lookups(url, sample, seconds).items()})
        result.update(open_loop(url, "http"))
        if shutil.which("nginx") or Path("/usr/sbin/nginx").exists():
            with nginx_proxy(url) as proxied:
                result.update({f"http_proxy_{k}": v
                               for k, v in wrk_lookups(proxied, sample, seconds).items()})
                result.update(open_loop(proxied, "http_proxy"))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a run under 30 s")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--source", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--no-http", action="store_true", help="skip the gunicorn/wrk part")
    parser.add_argument("--rate", type=float, default=1000.0,
                        help="open-loop requests per second (over 64 connections)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="aw-bench-"))
    # One client address asks thousands of times a second here: no per-client lookup limit.
    settings = Settings.from_env({}, instance_path=workdir, log_level="WARNING",
                                 rate_limit_lookups="", rate_limit_address_lookups="",
                                 database_url=args.database_url
                                 or f"sqlite:///{workdir / 'bench.db'}")
    upgrade(settings.database_url)
    services = Services(settings)
    try:
        started = time.perf_counter()
        with services.session() as session:
            store_snapshot(session, read_source(args.source))
        result: dict[str, float] = {"sync_s": round(time.perf_counter() - started, 2)}
        tracemalloc.start()
        index = services.legislators.get()
        result["index_mb"] = round(tracemalloc.get_traced_memory()[0] / 2**20, 1)
        tracemalloc.stop()
        zips = list(index.answers)
        result.update(measure_lookups(services.legislators, zips,
                                      200_000 if args.quick else 2_000_000))
        if not args.no_http and shutil.which("wrk"):
            result.update(measure_http(settings, zips, 5 if args.quick else 15, args.rate))
    finally:
        services.close()
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
