"""Delivery pipeline benchmark: submitted actions -> resolved -> planned -> real workers -> stub.

In a scratch PostgreSQL database with the real legislator data (../shared/data) and organizer
addresses for every legislator's office: N supporters submit through ``submit_action`` (spread
over single-district ZIPs); ``resolve_actions`` and ``plan_batch`` with the target planner
(``actionwave.delivery.targets``) turn each into letters to their legislators' offices plus a
confirmation, timed as ``planning_seconds``. Real ``actionwave worker`` processes sharing one Redis
then drain every delivery into the SendGrid stub through the real SendGrid mailer. Prints one JSON
line: ``deliveries_per_s``, ``max_rate_1s`` (most requests the stub saw in one wall-clock second),
``limit`` (requests/s, null when lifted), ``duplicates``, ``lost``, then the details. Then, with
the same workers idle, ``--quiet`` supporters submit one at a time (a few a second, far below the
surge threshold) and go the whole way through the outbox relay: ``quiet_submit_to_delivered_p50_s``
and ``_p95_s`` are the seconds from each submission to the last of its mails accepted by the stub.

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
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select

from actionwave.platform.config import Settings
from bench.harness import REDIS_URL, ROOT, free_port, scratch_database

CAMPAIGN_FILE = ROOT / "campaigns" / "hketo-certification-act.yaml"
SHARED_DATA = Path(os.environ.get("ACTIONWAVE_SHARED_DATA", ROOT.parent / "shared" / "data"))
TASK_BATCH = 200  # actions per resolve task, as the outbox relay hands them over


def seed(settings: Settings) -> tuple[str, list[str]]:
    """Legislators, the campaign and an address for every office; returns the campaign slug and
    the single-district ZIPs supporters are spread over."""
    from actionwave.campaigns.files import load_campaign
    from actionwave.legislators.models import Legislator, ZipDistrict
    from actionwave.legislators.sources import read_source
    from actionwave.legislators.sync import store_snapshot
    from actionwave.messages.models import TargetAddress
    from actionwave.system.services import Services

    services = Services(settings)
    with services.session() as session:
        store_snapshot(session, read_source(str(SHARED_DATA)))
        slug = load_campaign(session, CAMPAIGN_FILE).slug
        bioguides = session.scalars(select(Legislator.bioguide_id).distinct()).all()
        session.execute(insert(TargetAddress.__table__), [
            {"bioguide_id": b, "email": f"office-{b.lower()}@example.org", "label": "bench"}
            for b in bioguides])
        one_district = (select(ZipDistrict.zcta).group_by(ZipDistrict.zcta)
                        .having(func.count() == 1).order_by(ZipDistrict.zcta).limit(2000))
        zips = list(session.scalars(one_district))
        session.commit()
    services.close()
    return slug, zips


def submit_some(settings: Settings, slug: str, zips: list[str], numbers: range) -> list[str]:
    """Supporters ``numbers`` submit through ``submit_action``; returns their action ids."""
    from actionwave.intake.submissions import parse_action_form, submit_action
    from actionwave.system.services import Services

    services = Services(settings)
    ids = []
    with services.session() as session:
        for n in numbers:
            form = parse_action_form({
                "email": f"supporter{n}@example.org", "first_name": f"Ada{n}", "last_name": "Lee",
                "zip": zips[n % len(zips)], "city": "Springfield", "consent": True,
                "message": f"Supporter {n}'s own words."})
            ids.append(str(submit_action(session, slug, form).action_id))
    services.close()
    return ids


def plan_some(settings: Settings, action_ids: list[str]) -> tuple[int, float, float]:
    """Resolve and plan ``action_ids`` the way ``tasks.actions.resolve_actions`` does, in
    batches; returns the rows planned and the seconds spent resolving and planning."""
    from actionwave.delivery.planning import plan_batch
    from actionwave.delivery.targets import TargetPlanner
    from actionwave.intake.resolution import resolve_actions
    from actionwave.system.services import Services

    services = Services(settings)
    planned, resolving, planning = 0, 0.0, 0.0
    for start in range(0, len(action_ids), TASK_BATCH):
        planner = TargetPlanner(settings)
        with services.session() as session:
            began = time.perf_counter()
            index = services.legislators.get(session)
            batch = [uuid.UUID(a) for a in action_ids[start:start + TASK_BATCH]]
            resolved = resolve_actions(session, batch, index=index)
            middle = time.perf_counter()
            planned += plan_batch(session, settings, resolved, planner)
            resolving += middle - began
            planning += time.perf_counter() - middle
    services.close()
    return planned, resolving, planning


def start_stub(niceness: int = 0) -> tuple[subprocess.Popen[bytes], str]:
    """The SendGrid stub in a process of its own, at ``niceness``; returns it and its URL."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "tests.stubs.sendgrid", "--port", str(port)],
                               cwd=ROOT, stdout=subprocess.PIPE,
                               preexec_fn=lambda: os.nice(niceness) if niceness else None)
    assert process.stdout is not None
    url = json.loads(process.stdout.readline())["url"]
    return process, url


def stub_stats(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/_stub/stats", timeout=30) as response:
        return json.loads(response.read())


def start_workers(settings: Settings, count: int, logs: Path, *,
                  command: Sequence[str] = ("-m", "actionwave", "worker"),
                  name: str = "worker") -> list[subprocess.Popen[bytes]]:
    """``count`` Celery workers (``python <command>``) with ``settings`` in their environment;
    returns once each has logged that it is ready (its log is ``logs/<name>-<n>.log``)."""
    env = {**os.environ, **settings.to_env()}
    workers = []
    for n in range(count):
        log = (logs / f"{name}-{n}.log").open("wb")
        workers.append(subprocess.Popen(
            [sys.executable, *command, "--without-heartbeat", "--without-gossip",
             "--without-mingle"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
    deadline = time.monotonic() + 60
    for n in range(count):
        while b"ready." not in (logs / f"{name}-{n}.log").read_bytes():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} {n} not ready; see {logs}")
            time.sleep(0.1)
    return workers


def quiet_latencies(settings: Settings, slug: str, zips: list[str], count: int,
                    gap: float, timeout: float) -> list[float]:
    """``count`` supporters submit ``gap`` seconds apart while the workers run; returns, per
    action, the seconds from its submission until its last delivery was sent."""
    from actionwave.core.models import Action, Delivery
    from actionwave.intake.submissions import parse_action_form, submit_action
    from actionwave.system.services import Services

    services = Services(settings)
    submitted: dict[uuid.UUID, float] = {}
    try:
        with services.session() as session:
            for n in range(count):
                form = parse_action_form({
                    "email": f"quiet{n}@example.org", "first_name": f"Quiet{n}",
                    "last_name": "Lee", "zip": zips[n % len(zips)], "city": "Springfield",
                    "consent": True, "message": f"Quiet supporter {n}'s own words."})
                began = time.time()
                submitted[submit_action(session, slug, form).action_id] = began
                time.sleep(gap)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with services.session() as session:
                resolved = session.scalar(select(func.count()).where(
                    Action.id.in_(submitted), Action.resolved_at.is_not(None)))
                rows = session.execute(select(Delivery.action_id, Delivery.state, Delivery.sent_at)
                                       .where(Delivery.action_id.in_(submitted))).all()
            if resolved == count and rows and all(state == "sent" for _, state, _ in rows):
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("quiet submissions not delivered in time")
    finally:
        services.close()
    last: dict[uuid.UUID, float] = {}
    for action_id, _, sent_at in rows:
        at = (sent_at if sent_at.tzinfo else sent_at.replace(tzinfo=UTC)).timestamp()
        last[action_id] = max(last.get(action_id, 0.0), at)
    return sorted(last[a] - began for a, began in submitted.items())


def percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(share * len(values)))]


def count_deliveries(settings: Settings) -> dict[str, int]:
    from actionwave.core.models import Delivery
    from actionwave.system.services import Services

    services = Services(settings)
    with services.session() as session:
        category = Delivery.payload["mail"]["category"].as_string()
        rows = session.execute(select(Delivery.channel, category, func.count())
                               .group_by(Delivery.channel, category)).all()
    services.close()
    return {f"{channel}:{category}": n for channel, category, n in rows}


def run(args: argparse.Namespace, database_url: str, mail_url: str, logs: Path) -> dict[str, Any]:
    from actionwave.core.models import Delivery
    from actionwave.system.services import Services
    from workers import create_celery

    settings = Settings.from_env(
        {}, database_url=database_url, broker_url=REDIS_URL, redis_url=REDIS_URL,
        namespace=f"aw-bench-{secrets.token_hex(4)}", instance_path=logs,
        sendgrid_api_key=args.api_key, sendgrid_api_host=mail_url,
        mail_from="Bench <bench@example.org>",
        sendgrid_requests_per_minute=int(args.limit * 60), delivery_batch_size=args.batch_size,
        office_messages_per_minute=args.office_limit, worker_pool="threads",
        worker_concurrency=args.threads,
    )
    slug, zips = seed(settings)
    with ProcessPoolExecutor(args.workers) as pool:
        intake = time.time()
        each = [settings] * args.workers, [slug] * args.workers, [zips] * args.workers
        numbers = [range(i, args.actions, args.workers) for i in range(args.workers)]
        chunks = list(pool.map(submit_some, *each, numbers))
        intake = time.time() - intake
        parts = list(pool.map(plan_some, [settings] * len(chunks), chunks))
    expected = sum(part[0] for part in parts)
    resolving, planning = (sum(part[i] for part in parts) / args.workers for i in (1, 2))
    planned = count_deliveries(settings)
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
        after = stub_stats(mail_url)
        quiet = quiet_latencies(settings, slug, zips, args.quiet, args.quiet_gap, args.timeout)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        app.close()
        services.close()
    window = {int(s): n for s, n in after["requests_per_second"].items()
              if int(started) <= int(s) <= int(started + elapsed)}
    received = after["distinct"] - before["distinct"]
    return {
        "deliveries_per_s": round(expected / elapsed, 1) if sent >= expected else 0.0,
        "max_rate_1s": max(window.values(), default=0),
        "limit": args.limit or None,
        "duplicates": after["duplicates"] - before["duplicates"],
        "lost": expected - received,
        "quiet_submit_to_delivered_p50_s": round(percentile(quiet, 0.5), 3),
        "quiet_submit_to_delivered_p95_s": round(percentile(quiet, 0.95), 3),
        "quiet_actions": args.quiet, "quiet_gap_s": args.quiet_gap,
        "deliveries": expected, "planned": planned, "actions": args.actions, "sent": sent,
        "requests": sum(window.values()), "seconds": round(elapsed, 2),
        "intake_seconds": round(intake, 2),
        "resolve_seconds": round(resolving, 2),
        "resolve_ms_per_action": round(1000 * resolving * args.workers / args.actions, 2),
        "planning_seconds": round(planning, 2),
        "planning_ms_per_action": round(1000 * planning * args.workers / args.actions, 2),
        "office_limit_per_min": args.office_limit or None,
        "workers": args.workers, "threads": args.threads, "batch_size": args.batch_size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 actions, under 30 s")
    parser.add_argument("--actions", type=int, default=None, help="default 20,000")
    parser.add_argument("--mail-host", default="", help="an already running SendGrid stub")
    parser.add_argument("--api-key", default="SG.test-key")
    parser.add_argument("--limit", type=float, default=0.0, help="requests/s; 0 lifts it")
    parser.add_argument("--office-limit", type=int, default=0,
                        help="messages/min per office; 0 lifts it (default: lifted)")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--quiet", type=int, default=40,
                        help="supporters submitting one at a time after the load")
    parser.add_argument("--quiet-gap", type=float, default=0.25, help="seconds between them")
    args = parser.parse_args()
    args.actions = args.actions or (1_000 if args.quick else 20_000)
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
