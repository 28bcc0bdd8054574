"""Intake throughput: Actionwave's durable POST .../actions against a bare Flask + Celery .delay().

Both run under the same gunicorn settings in this process tree, loaded by wrk with the same
connections, so the ratio means something on a noisy machine; then open loop at a fixed arrival
rate over as many connections (``open_*``: the latency a supporter sees at that load, timed from
when each request was due). Rounds alternate between the apps. Prints one JSON line.

    python bench/intake.py [--quick] [--connections 64] [--seconds 20] [--rounds 3] [--rate 600]

``--sqlite``: the embedded default instead. ``actionwave up`` itself (SQLite database, SQLite
broker, its worker and beat running) takes the campaign page's no-JavaScript form posts, against
the bare Flask + Celery app on a SQLite broker; every answered submission must be stored.

    python bench/intake.py --sqlite [--connections 32] [--seconds 15] [--rounds 3]
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis
import sqlalchemy as sa

from bench.harness import (
    REDIS_URL,
    ROOT,
    combine,
    free_port,
    gunicorn,
    scratch_database,
    wrk,
)
from bench.openloop import open_loop

SLUG = "hketo-certification-act"
PATH = f"/api/v1/campaigns/{SLUG}/actions"


def load_campaign(url: str) -> None:
    from actionwave.campaigns.files import load_campaign as load
    from actionwave.platform.db import make_engine, make_session_factory

    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        load(session, ROOT / "campaigns" / f"{SLUG}.yaml")
    engine.dispose()


def open_loop_run(url: str, rate: float, seconds: float, connections: int) -> dict[str, Any]:
    """Unique submissions POSTed to ``url`` at ``rate`` per second; the summary, errors summed."""
    run = secrets.token_hex(3)
    result = open_loop(url + PATH, rate, seconds, connections, lambda n: {
        "email": f"o{run}-{n}@example.org", "first_name": "Open", "last_name": "Loop",
        "zip": "60601"})
    summary = result.summary()
    summary["errors"] = sum(summary["errors"].values())  # type: ignore[union-attr]
    return summary


def stored_actions(url: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        count = conn.exec_driver_sql("SELECT count(*) FROM actions").scalar_one()
    engine.dispose()
    return count


def up_process(instance: Path, port: int, data_source: str) -> subprocess.Popen[bytes]:
    """``actionwave up`` with nothing configured but its instance folder and data; the abuse
    limits stay on (their cost is part of the intake) but never throttle one machine's load."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "BROKER_URL", "REDIS_URL", "PUBLIC_URL", "NAMESPACE")}
    env.update(INSTANCE_PATH=str(instance), DATA_SOURCE=data_source, LOG_LEVEL="WARNING",
               RATE_LIMIT_PER_IP="100000000/minute", RATE_LIMIT_PER_EMAIL="1000/minute")
    return subprocess.Popen([sys.executable, "-m", "actionwave", "up", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def form_session(base: str) -> tuple[str, str]:
    """A session cookie and its CSRF token, from the campaign page."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{base}/c/{SLUG}", timeout=10) as response:
        page = response.read().decode()
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    if not found:
        raise SystemExit("the campaign page has no form token")
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    return cookie, found.group(1)


def sqlite_main(args: argparse.Namespace, seconds: int, rounds: int) -> None:
    """The embedded default's form intake; prints one JSON line."""
    ours: list[dict] = []
    baseline: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="aw-bench-sqlite-") as tmp:
        instance = Path(tmp) / "instance"
        port = free_port()
        up = up_process(instance, port, args.data_source)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while not _healthy(base):
                if up.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("actionwave up did not start")
                time.sleep(0.2)
            form = form_session(base)
            broker = f"sqla+sqlite:///{tmp}/baseline-broker.db"
            with gunicorn("bench.baseline_app:create_app()",
                          {"BROKER_URL": broker, "NAMESPACE": "baseline"},
                          workers=1) as base_url:
                for _ in range(rounds):  # alternate, so drift on the machine hits both alike
                    ours.append(wrk(base, f"/c/{SLUG}/act", args.connections, seconds,
                                    form=form))
                    baseline.append(wrk(base_url, PATH, args.connections, seconds))
        finally:
            os.killpg(up.pid, signal.SIGTERM)
            up.wait(timeout=60)
        stored = stored_actions(f"sqlite:///{instance / 'actionwave.db'}")
    mine, base_figures = combine(ours), combine(baseline)
    accepted = sum(r["accepted"] for r in ours)
    print(json.dumps({
        "mode": "sqlite-form",
        "accepted_per_s": mine["accepted_per_s"],
        "p50_ms": mine["p50_ms"],
        "p99_ms": mine["p99_ms"],
        "max_ms": max(r["max_ms"] for r in ours),
        "errors": mine["errors"],
        "accepted": accepted,
        "stored": stored,
        # Requests still in flight when wrk stops are stored but not counted as answered.
        "all_stored": stored >= accepted,
        "baseline_accepted_per_s": base_figures["accepted_per_s"],
        "baseline_p50_ms": base_figures["p50_ms"],
        "baseline_p99_ms": base_figures["p99_ms"],
        "ratio": round(mine["accepted_per_s"] / base_figures["accepted_per_s"], 3),
        "connections": args.connections,
        "rounds": rounds,
        "seconds_per_round": seconds,
        "goal": {"accepted_per_s": 200, "p99_ms": 250},
    }))


def _healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a run under 30 s")
    parser.add_argument("--connections", type=int, default=None,
                        help="default 64; 32 with --sqlite")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternating rounds: median rates, pooled latencies")
    parser.add_argument("--rate", type=float, default=600.0,
                        help="open-loop arrivals per second (0: closed loop only)")
    parser.add_argument("--no-limits", action="store_true",
                        help="turn the per-IP and per-email abuse limits off (to see their cost)")
    parser.add_argument("--sqlite", action="store_true",
                        help="the embedded default (actionwave up) taking the no-JS form")
    parser.add_argument("--data-source", default=str(ROOT.parent / "shared" / "data"),
                        help="legislator data for --sqlite (folder or base URL)")
    args = parser.parse_args()
    args.connections = args.connections or (32 if args.sqlite else 64)
    seconds, rounds = (3, 2) if args.quick else (args.seconds, args.rounds)
    if args.sqlite:
        sqlite_main(args, seconds, rounds)
        return
    namespace = f"aw-bench-{secrets.token_hex(3)}"
    ours: list[dict] = []
    baseline: list[dict] = []
    ours_open: list[dict] = []
    baseline_open: list[dict] = []
    with scratch_database() as url:
        load_campaign(url)
        env = {"DATABASE_URL": url, "BROKER_URL": REDIS_URL, "REDIS_URL": REDIS_URL,
               "NAMESPACE": namespace, "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING",
               # The limiter stays on (its cost is part of the intake) but never throttles.
               "RATE_LIMIT_PER_IP": "100000000/minute", "RATE_LIMIT_PER_EMAIL": "1000/minute"}
        if args.no_limits:
            env.update(RATE_LIMIT_PER_IP="", RATE_LIMIT_PER_EMAIL="")
        with gunicorn("web:create_app()", env) as ours_url, \
                gunicorn("bench.baseline_app:create_app()", env) as base_url:
            for _ in range(rounds):  # alternate, so drift on the machine hits both alike
                ours.append(wrk(ours_url, PATH, args.connections, seconds))
                baseline.append(wrk(base_url, PATH, args.connections, seconds))
            for _ in range(rounds if args.rate else 0):
                ours_open.append(open_loop_run(ours_url, args.rate, seconds, args.connections))
                baseline_open.append(open_loop_run(base_url, args.rate, seconds,
                                                   args.connections))
        stored = stored_actions(url)
    redis.Redis.from_url(REDIS_URL).delete(namespace)

    mine, base = combine(ours), combine(baseline)
    accepted = sum(r["accepted"] for r in ours + ours_open)
    open_figures: dict[str, Any] = {}
    if args.rate:
        mine_open, base_open = combine(ours_open), combine(baseline_open)
        open_figures = {
            "open_rate_per_s": args.rate,
            "open_p50_ms": mine_open["p50_ms"],
            "open_p99_ms": mine_open["p99_ms"],
            "open_errors": mine_open["errors"],
            "baseline_open_p50_ms": base_open["p50_ms"],
            "baseline_open_p99_ms": base_open["p99_ms"],
            "baseline_open_errors": base_open["errors"],
        }
    print(json.dumps({
        "accepted_per_s": mine["accepted_per_s"],
        "p50_ms": mine["p50_ms"],
        "p99_ms": mine["p99_ms"],
        "max_ms": max(r["max_ms"] for r in ours),
        "errors": mine["errors"],
        "accepted": accepted,
        "stored": stored,
        "baseline_accepted_per_s": base["accepted_per_s"],
        "baseline_p50_ms": base["p50_ms"],
        "baseline_p99_ms": base["p99_ms"],
        "ratio": round(mine["accepted_per_s"] / base["accepted_per_s"], 3),
        "connections": args.connections,
        "rounds": rounds,
        "seconds_per_round": seconds,
        "abuse_limits": not args.no_limits,
        **open_figures,
    }))


if __name__ == "__main__":
    main()
