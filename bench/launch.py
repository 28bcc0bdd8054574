"""Launch day: the intake under load with the whole pipeline running, counted end to end.

gunicorn serves the intake on PostgreSQL + Redis while real ``actionwave worker`` processes relay,
resolve, plan and deliver each action's confirmation mail to the SendGrid stub (its own process).
wrk loads it closed-loop at 64 and 256 connections, then ``bench.openloop`` open-loop at a fixed
arrival rate. The bare Flask + Celery ``.delay()`` app (bench/baseline_app.py) does the same job
the tutorial way, its Celery workers (as many, with as many threads) mailing each confirmation
to the same stub, and gets the same load in the same run, turn about in rounds (both warmed up
first; rates are the medians of the rounds, latencies are over all the rounds' requests
together, ``p99_ms_rounds`` each round's own): the ratio is our intake against the
baseline's, each with its own pipeline on the same two cores. After each turn the app's pipeline
catches up before the other's turn starts (``catch_up_s``, median of the rounds): the baseline's
workers take its tasks during the load, ours leave the actions in the outbox while the intake
surges (``actionwave.intake.surge``; ``--surge-per-s 0`` turns that off) and take them after. Then
everything is counted: ``server_outcomes`` (the intake's answers in the whole run by outcome,
from its own counter: ``rate_limited`` is 429, ``unavailable`` 503, ``invalid`` another 4xx),
``accepted`` (its 202s: wrk misses replies in flight when it stops), ``stored`` (action rows),
``resolved``, ``delivered`` (distinct confirmation keys at the stub), ``lost`` and ``duplicates``
(``drained`` is false when the drain timed out: then ``lost`` counts what was still on its way);
``baseline_delivered`` is the baseline's distinct mails at the stub (warm-up included, as in
``accepted``). Prints one JSON line; the headline figures are the closed loop at 64 connections,
each scenario is under ``scenarios``.

    python bench/launch.py --quick          # whole run under 60 s
    python bench/launch.py --seconds 30 --rate 600
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis
from sqlalchemy import func, select

from actionwave.platform.config import Settings
from actionwave.system.metrics import QUEUE_PRIORITY_SUFFIXES
from bench.harness import REDIS_URL, combine, gunicorn, scratch_database, wrk
from bench.intake import PATH, load_campaign, open_loop_run
from bench.pipeline import start_stub, start_workers, stub_stats

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ACCEPTED_RE = re.compile(r'^actionwave_intake_submissions_total\{outcome="(\w+)"\} (\S+)$', re.M)


def sync_legislators(settings: Settings, source: str) -> None:
    from actionwave.legislators.sources import read_source
    from actionwave.legislators.sync import store_snapshot
    from actionwave.system.services import Services

    services = Services(settings)
    with services.session() as session:
        store_snapshot(session, read_source(source))
    services.close()


def intake_outcomes(base: str) -> dict[str, int]:
    """The intake's own count of answers by outcome (summed over gunicorn's processes)."""
    with urllib.request.urlopen(f"{base}/metrics", timeout=30) as response:
        text = response.read().decode()
    return {outcome: int(float(n)) for outcome, n in ACCEPTED_RE.findall(text)}


def scenarios(args: argparse.Namespace) -> list[tuple[str, Callable[[str, float], dict[str, Any]]]]:
    return [
        ("closed_64", lambda url, seconds: wrk(url, PATH, 64, round(seconds))),
        ("closed_256", lambda url, seconds: wrk(url, PATH, 256, round(seconds))),
        (f"open_{args.rate:g}_per_s",
         lambda url, seconds: open_loop_run(url, args.rate, seconds, 64)),
    ]


def measure(args: argparse.Namespace, ours: str, baseline: str,
            catch_up: dict[str, Callable[[], float]]) -> dict[str, Any]:
    """Each scenario in ``args.rounds`` rounds, turn about on our intake and on the baseline.
    After each turn the app's pipeline catches up (``catch_up[url]()``, timed as ``catch_up_s``)
    before the other's turn starts, so neither's backlog weighs on the other's figures."""
    for url in (ours, baseline):  # first requests import, connect and fill caches: not measured
        wrk(url, PATH, 4 if args.quick else 16, 1 if args.quick else 3)
        catch_up[url]()
    results: dict[str, Any] = {}
    for name, load in scenarios(args):
        mine_runs, base_runs, served = [], [], Counter()
        for _ in range(args.rounds):
            before = intake_outcomes(ours)
            mine_runs.append(load(ours, args.seconds / args.rounds))
            served.update({k: v - before.get(k, 0) for k, v in intake_outcomes(ours).items()})
            mine_runs[-1]["catch_up_s"] = catch_up[ours]()
            base_runs.append(load(baseline, args.seconds / args.rounds))
            base_runs[-1]["catch_up_s"] = catch_up[baseline]()
        mine, base = combine(mine_runs), combine(base_runs)
        results[name] = {
            **mine,
            "accepted_client_seen": mine["accepted"],
            "accepted": served.get("accepted", 0),
            "server_outcomes": {k: v for k, v in served.items() if v},
            "p99_ms_rounds": [r["p99_ms"] for r in mine_runs],
            "baseline": {**base, "p99_ms_rounds": [r["p99_ms"] for r in base_runs]},
            "ratio": round(mine["accepted_per_s"] / base["accepted_per_s"], 3),
        }
    return results


def pipeline_counts(settings: Settings) -> dict[str, int]:
    from actionwave.core.models import Action, Delivery
    from actionwave.system.services import Services

    services = Services(settings)
    with services.session() as session:
        stored = session.scalar(select(func.count()).select_from(Action)) or 0
        unresolved = session.scalar(
            select(func.count()).where(Action.status == "accepted")) or 0
        # Confirmations only: letters to offices go through channels with no stub here.
        confirmation = Delivery.idempotency_key.startswith("confirmation:")
        unsent = session.scalar(select(func.count()).where(
            confirmation, Delivery.state != "sent")) or 0
        sent = session.scalar(select(func.count()).where(
            confirmation, Delivery.state == "sent")) or 0
    services.close()
    return {"stored": stored, "resolved": stored - unresolved, "unsent": unsent, "sent": sent}


def drain(settings: Settings, mail_url: str, timeout: float) -> tuple[dict[str, Any], float]:
    """Wait until every action is resolved, its confirmation is at the stub, and no task of the
    pipeline is waiting or running (what is left of this turn must not run into the next)."""
    from actionwave.system.services import Services
    from workers import create_celery

    services = Services(settings)
    app = create_celery(settings, services)
    broker = redis.Redis.from_url(REDIS_URL)
    started = time.monotonic()
    swept = -settings.delivery_sweep_seconds
    try:
        while True:
            counts = pipeline_counts(settings)
            stats = stub_stats(mail_url)
            delivered = stats["distinct_by_kind"].get("confirmation", 0)
            done = counts["resolved"] == counts["stored"] == delivered and not counts["unsent"]
            if (done and idle(broker, settings.namespace)) \
                    or time.monotonic() - started > timeout:
                break
            if time.monotonic() - swept >= settings.delivery_sweep_seconds:
                app.send_task("actionwave.sweep_deliveries")  # what beat does, as often
                swept = time.monotonic()
            time.sleep(0.5)
    finally:
        app.close()
        services.close()
        broker.close()
    return {**counts, "delivered": delivered, "duplicates": stats["duplicates"],
            "max_requests_1s": stats["max_requests_1s"]}, time.monotonic() - started


def idle(broker: redis.Redis, queue: str) -> bool:
    """No task waiting in ``queue`` and none of it taken but unacknowledged (our tasks are
    acked late, so a running one is in kombu's ``unacked`` hash, as ``[message, exchange,
    routing key]``; other runs' leftovers may be there too)."""
    if any(broker.llen(queue + suffix) for suffix in QUEUE_PRIORITY_SUFFIXES):
        return False
    return not any(json.loads(entry)[2] == queue for entry in broker.hvals("unacked"))


def timed(work: Callable[[], object]) -> float:
    started = time.monotonic()
    work()
    return round(time.monotonic() - started, 1)


def drain_baseline(queue: str, mail_url: str, timeout: float) -> int:
    """Wait until the baseline's queue is empty and its mails at the stub stop growing; returns
    how many distinct mails it delivered."""
    broker = redis.Redis.from_url(REDIS_URL)
    deadline = time.monotonic() + timeout
    delivered = -1
    while True:
        now = stub_stats(mail_url)["distinct_by_kind"].get("baseline", 0)
        if (now == delivered and not broker.llen(queue)) or time.monotonic() > deadline:
            return now
        delivered = now
        time.sleep(0.5)


def stop_all(processes: list[subprocess.Popen[bytes]]) -> None:
    """Ask every process to stop, then wait for each (Celery's warm shutdowns overlap)."""
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=30)


def run(args: argparse.Namespace, database_url: str, work: Path) -> dict[str, Any]:
    namespace = f"aw-launch-{secrets.token_hex(3)}"
    metrics_dir = work / "metrics"
    metrics_dir.mkdir()
    with ExitStack() as stack:
        # The stub stands for SendGrid's servers, which are not on our machine: at the lowest
        # priority, its work takes as little as possible from the two apps under test.
        stub, mail_url = start_stub(niceness=19)
        stack.callback(lambda: (stub.terminate(), stub.wait(timeout=10)))
        settings = Settings.from_env(
            {}, database_url=database_url, broker_url=REDIS_URL, redis_url=REDIS_URL,
            namespace=namespace, instance_path=work, secret_key="bench", log_level="WARNING",
            sendgrid_api_key="SG.test-key", sendgrid_api_host=mail_url,
            mail_from="Bench <bench@example.org>",
            worker_pool="threads", worker_concurrency=args.threads,
            # The abuse limits are checked on every submission, as in production (each one's email
            # is new); one address sends everything here, so its own limit never throttles.
            rate_limit_per_ip="100000000/minute", metrics_allowed_ips="127.0.0.1",
            surge_submissions_per_s=args.surge_per_s,
        )
        load_campaign(database_url)
        sync_legislators(settings, args.data)
        # INFO: start_workers waits for Celery's "ready." line.
        base_settings = replace(settings, namespace=f"{namespace}-baseline", log_level="INFO")
        workers = [
            *start_workers(replace(settings, log_level="INFO"), args.workers, work),
            *start_workers(base_settings, args.workers, work, name="baseline-worker", command=(
                "-m", "celery", "-A", "bench.baseline_app", "worker", "--pool", "threads",
                "--concurrency", str(args.threads), "--loglevel", "INFO")),
        ]
        stack.callback(stop_all, workers)
        web_env = {**settings.to_env(), "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
        ours = stack.enter_context(gunicorn("web:create_app()", web_env))
        baseline = stack.enter_context(gunicorn("bench.baseline_app:create_app()",
                                                base_settings.to_env()))
        results = measure(args, ours, baseline, {
            ours: lambda: round(drain(settings, mail_url, args.drain_timeout)[1], 1),
            baseline: lambda: timed(lambda: drain_baseline(
                base_settings.namespace, mail_url, args.drain_timeout)),
        })
        outcomes = {k: v for k, v in intake_outcomes(ours).items() if v}
        accepted = outcomes.get("accepted", 0)
        counts, drain_seconds = drain(settings, mail_url, args.drain_timeout)
        baseline_delivered = drain_baseline(base_settings.namespace, mail_url, args.drain_timeout)
    redis.Redis.from_url(REDIS_URL).delete(namespace, base_settings.namespace)
    head = results["closed_64"]
    return {
        "accepted_per_s": head["accepted_per_s"], "p50_ms": head["p50_ms"],
        "p99_ms": head["p99_ms"], "max_ms": head["max_ms"], "errors": head["errors"],
        "server_outcomes": outcomes,
        "accepted": accepted, "stored": counts["stored"], "resolved": counts["resolved"],
        "delivered": counts["delivered"],
        "lost": accepted - counts["delivered"] + max(0, counts["stored"] - accepted),
        "duplicates": counts["duplicates"],
        "drained": counts["resolved"] == counts["stored"] == counts["delivered"],
        "baseline_accepted_per_s": head["baseline"]["accepted_per_s"],
        "baseline_accepted_client_seen": sum(r["baseline"]["accepted"] for r in results.values()),
        "baseline_delivered": baseline_delivered,
        "ratio": head["ratio"],
        "drain_seconds": round(drain_seconds, 1), "seconds_per_scenario": args.seconds,
        "rounds": args.rounds,
        "gunicorn": "2 gevent processes (both apps; web/gunicorn_conf.py)",
        "workers": f"{args.workers} x {args.threads} threads", "abuse_limits": True,
        "surge_submissions_per_s": args.surge_per_s, "scenarios": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="2 s per scenario in one round, under 60 s")
    parser.add_argument("--seconds", type=int, default=30, help="per scenario and app")
    parser.add_argument("--rounds", type=int, default=3,
                        help="each scenario's seconds split into rounds, turn about")
    parser.add_argument("--rate", type=float, default=500.0, help="open-loop arrivals/s")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    parser.add_argument("--surge-per-s", type=float, default=Settings.surge_submissions_per_s,
                        help="SURGE_SUBMISSIONS_PER_S for our workers (0: never hold, as before"
                             " intake first)")
    parser.add_argument("--drain-timeout", type=float, default=900.0)
    parser.add_argument("--data", default=str(SHARED_DATA), help="legislator data source")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds, args.drain_timeout = 2, 1, 30.0
    with scratch_database() as url, tempfile.TemporaryDirectory() as work:
        result = run(args, url, Path(work))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
