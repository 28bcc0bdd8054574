"""Delivery pipeline benchmark: accepted actions -> planned deliveries -> real workers -> stub.

Creates accepted actions in a scratch PostgreSQL database, plans each one's deliveries with
``plan_deliveries`` (the confirmation mail; target letters come from the messages area), starts
real ``actionwave worker`` processes sharing one Redis, and times them draining every delivery
into the SendGrid stub through the real SendGrid mailer. Prints one JSON line:
``deliveries_per_s``, ``max_rate_1s`` (most requests the stub saw in one wall-clock second),
``limit`` (requests/s, null when lifted), ``duplicates``, ``lost``.

    python bench/pipeline.py --quick                 # < 30 s
    python bench/pipeline.py --limit 100 --batch-size 10
    python bench/pipeline.py --mail-host http://127.0.0.1:8025
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select

from actionwave.config import Settings
from bench.harness import REDIS_URL, ROOT, free_port, scratch_database

CAMPAIGN_FILE = ROOT / "campaigns" / "hketo-certification-act.yaml"


def seed_actions(settings: Settings, count: int) -> list[str]:
    """``count`` supporters with one accepted action each; returns the action ids."""
    from actionwave.campaigns import load_campaign
    from actionwave.models import Action, Supporter
    from actionwave.services import Services

    services = Services(settings)
    now = datetime.now(UTC)
    with services.session() as session:
        campaign_id = load_campaign(session, CAMPAIGN_FILE).id
        supporters = [{"id": i + 1, "email": f"supporter{i}@example.org", "first_name": f"Ada{i}",
                       "last_name": "Lee", "zip": "02139", "city": "Cambridge", "state": "MA",
                       "consent": True, "locale": "en", "created_at": now, "updated_at": now}
                      for i in range(count)]
        session.execute(insert(Supporter.__table__), supporters)
        actions = [{"id": uuid.uuid4(), "campaign_id": campaign_id, "supporter_id": i + 1,
                    "status": "resolved", "idempotency_key": secrets.token_hex(16),
                    "locale": "en", "details": {}, "created_at": now, "updated_at": now}
                   for i in range(count)]
        session.execute(insert(Action.__table__), actions)
        session.commit()
    services.close()
    return [str(a["id"]) for a in actions]


def plan_some(settings: Settings, action_ids: list[str]) -> int:
    from actionwave.delivery.planning import plan_deliveries
    from actionwave.services import Services

    services = Services(settings)
    planned = 0
    with services.session() as session:
        for action_id in action_ids:
            planned += plan_deliveries(session, settings, uuid.UUID(action_id), [])
    services.close()
    return planned


def start_stub() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "tests.stubs.sendgrid", "--port", str(port)],
                               cwd=ROOT, stdout=subprocess.PIPE)
    assert process.stdout is not None
    url = json.loads(process.stdout.readline())["url"]
    return process, url


def stub_stats(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/_stub/stats", timeout=30) as response:
        return json.loads(response.read())


def start_workers(settings: Settings, count: int, logs: Path) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, **settings.to_env()}
    workers = []
    for n in range(count):
        log = (logs / f"worker-{n}.log").open("wb")
        workers.append(subprocess.Popen(
            [sys.executable, "-m", "actionwave", "worker", "--without-heartbeat",
             "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
    deadline = time.monotonic() + 60
    for n in range(count):
        while b"ready." not in (logs / f"worker-{n}.log").read_bytes():
            if time.monotonic() > deadline:
                raise RuntimeError(f"worker {n} not ready; see {logs}")
            time.sleep(0.1)
    return workers


def run(args: argparse.Namespace, database_url: str, mail_url: str, logs: Path) -> dict[str, Any]:
    from actionwave.models import Delivery
    from actionwave.services import Services
    from workers import create_celery

    settings = Settings.from_env(
        {}, database_url=database_url, broker_url=REDIS_URL, redis_url=REDIS_URL,
        namespace=f"aw-bench-{secrets.token_hex(4)}", instance_path=logs,
        sendgrid_api_key=args.api_key, sendgrid_api_host=mail_url,
        sendgrid_requests_per_minute=int(args.limit * 60), delivery_batch_size=args.batch_size,
        worker_pool="threads", worker_concurrency=args.threads,
    )
    planning = time.time()
    action_ids = seed_actions(settings, args.actions)
    chunks = [action_ids[i::args.workers] for i in range(args.workers)]
    with ProcessPoolExecutor(args.workers) as pool:
        expected = sum(pool.map(plan_some, [settings] * len(chunks), chunks))
    planning = time.time() - planning
    workers = start_workers(settings, args.workers, logs)
    services = Services(settings)
    app = create_celery(settings, services)
    before = stub_stats(mail_url)
    started = time.time()
    try:
        for _ in range(args.workers * args.threads):
            app.send_task("actionwave.deliver_due", args=("email",))
        deadline = time.monotonic() + args.timeout
        sent = 0
        while time.monotonic() < deadline:
            with services.session() as session:
                sent = session.scalar(select(func.count()).where(Delivery.state == "sent")) or 0
            if sent >= expected:
                break
            app.send_task("actionwave.sweep_deliveries")
            time.sleep(0.05)
        elapsed = time.time() - started
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        app.close()
        services.close()
    after = stub_stats(mail_url)
    window = {int(s): n for s, n in after["requests_per_second"].items()
              if int(started) <= int(s) <= int(started + elapsed)}
    received = after["distinct"] - before["distinct"]
    return {
        "deliveries_per_s": round(expected / elapsed, 1) if sent >= expected else 0.0,
        "max_rate_1s": max(window.values(), default=0),
        "limit": args.limit or None,
        "duplicates": after["duplicates"] - before["duplicates"],
        "lost": expected - received,
        "deliveries": expected, "actions": args.actions, "sent": sent,
        "requests": sum(window.values()), "seconds": round(elapsed, 2),
        "planning_seconds": round(planning, 2),
        "workers": args.workers, "threads": args.threads, "batch_size": args.batch_size,
        "planned_by": "plan_deliveries: confirmation mail only (resolution not run)",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 actions, under 30 s")
    parser.add_argument("--actions", type=int, default=None, help="default 20,000")
    parser.add_argument("--mail-host", default="", help="an already running SendGrid stub")
    parser.add_argument("--api-key", default="SG.test-key")
    parser.add_argument("--limit", type=float, default=0.0, help="requests/s; 0 lifts it")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    args.actions = args.actions or (2_000 if args.quick else 20_000)
    stub = None
    mail_url = args.mail_host.rstrip("/")
    if not mail_url:
        stub, mail_url = start_stub()
    try:
        with scratch_database() as database_url, tempfile.TemporaryDirectory() as logs:
            result = run(args, database_url, mail_url, Path(logs))
    finally:
        if stub is not None:
            stub.terminate()
            stub.wait(timeout=10)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
