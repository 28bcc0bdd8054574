"""A wave to generated supporters, fanned out and delivered by real workers to the SendGrid stub.

Generates supporters (one in ten reads Chinese) in a scratch PostgreSQL database, starts real
``actionwave worker`` processes and the SendGrid stub (its own process, no rate limit), launches a
wave and does what beat would: ``advance_waves`` fans it out, ``sweep_deliveries`` kicks the
workers, which render each supporter's mail and send it in requests of many personalizations.
Prints one JSON line: ``supporters``, ``seconds`` (launch until every delivery is recorded sent),
``peak_rss_mb`` (the largest peak resident set, VmHWM, of the worker processes), ``duplicates``
and ``lost`` (keys the stub saw twice, or never), with ``fan_out_seconds`` and the set-up.

    python bench/wave.py            # 100,000 supporters
    python bench/wave.py --quick    # 20,000 supporters, under 30 s
"""

from __future__ import annotations

import argparse
import json
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# Run as a script (``python bench/wave.py``), the project root is not on the path by itself.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select, text

from actionwave.campaigns.files import load_campaign
from actionwave.core.models import Delivery, Wave
from actionwave.platform.config import Settings
from actionwave.system.services import Services
from actionwave.waves.launch import create_wave, launch_wave
from bench.harness import REDIS_URL, ROOT, scratch_database
from bench.pipeline import start_stub, start_workers, stub_stats


def seed(services: Services, count: int) -> int:
    """``count`` consenting supporters and a draft wave to all of them; returns the wave id."""
    with services.session() as session:
        campaign = load_campaign(session, ROOT / "campaigns/hketo-certification-act.yaml")
        session.execute(text(
            "INSERT INTO supporters (email, first_name, last_name, city, state, zip, district,"
            " locale, created_at, updated_at) SELECT 'b' || g || '@example.org',"
            " 'Bea' || g, 'M', 'Oakland', 'CA', '94612', 12,"
            " CASE WHEN g % 10 = 0 THEN 'zh-Hant' ELSE 'en' END, now(), now()"
            " FROM generate_series(1, :n) g"), {"n": count})
        session.execute(text(
            "INSERT INTO campaign_consents (campaign_id, supporter_id, source, text, locale,"
            " given_at) SELECT :campaign, id, 'import', 'bench', locale, now() FROM supporters"),
            {"campaign": campaign.id})
        wave_id = create_wave(session, campaign.id, "bench").id
        session.commit()
    return wave_id


def peak_rss_mb(processes: list[subprocess.Popen[bytes]]) -> float:
    """The largest VmHWM (peak resident set) among the live ``processes``, in MB."""
    peaks = []
    for process in processes:
        for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return round(max(peaks, default=0.0), 1)


def deliver(settings: Settings, wave_id: int, workers: int, timeout: float,
            logs: Path) -> dict[str, Any]:
    """Launch the wave and drive it like beat until every delivery is sent; time it."""
    from workers import create_celery

    processes = start_workers(settings, workers, logs)
    services = Services(settings)
    app = create_celery(settings, services)
    try:
        with services.session() as session:
            started = time.perf_counter()
            launch_wave(session, wave_id)
            app.send_task("actionwave.advance_waves")
            fanned_out = sent = 0.0
            deadline, next_sweep = time.monotonic() + timeout, 0.0
            while time.monotonic() < deadline:
                if time.monotonic() >= next_sweep:  # as beat would, every second
                    app.send_task("actionwave.sweep_deliveries")
                    next_sweep = time.monotonic() + 1.0
                time.sleep(0.2)
                wave = session.get(Wave, wave_id, populate_existing=True)
                assert wave is not None
                if wave.fanned_out_at is not None and not fanned_out:
                    fanned_out = time.perf_counter() - started
                sent = session.scalar(select(func.count()).where(
                    Delivery.wave_id == wave_id, Delivery.state == "sent")) or 0
                if fanned_out and sent >= wave.total:
                    break
            seconds = time.perf_counter() - started
        return {"seconds": round(seconds, 2), "fan_out_seconds": round(fanned_out, 2),
                "sent": sent, "peak_rss_mb": peak_rss_mb(processes)}
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        app.close()
        services.close()


def run(args: argparse.Namespace) -> dict[str, Any]:
    stub, mail_url = start_stub()
    try:
        with scratch_database() as url, tempfile.TemporaryDirectory() as logs:
            settings = Settings.from_env(
                {}, database_url=url, broker_url=REDIS_URL, redis_url=REDIS_URL,
                namespace=f"aw-bench-{secrets.token_hex(4)}", instance_path=Path(logs),
                sendgrid_api_key="SG.test-key", sendgrid_api_host=mail_url,
                mail_from="Bench <bench@example.org>",
                sendgrid_requests_per_minute=0, delivery_batch_size=args.batch_size,
                worker_pool="threads", worker_concurrency=args.threads,
                wave_chunk_size=args.chunk_size,
            )
            services = Services(settings)
            wave_id = seed(services, args.supporters)
            services.close()
            result = deliver(settings, wave_id, args.workers, args.timeout, Path(logs))
        stats = stub_stats(mail_url)
    finally:
        stub.terminate()
        stub.wait(timeout=10)
    return {"supporters": args.supporters, "seconds": result["seconds"],
            "peak_rss_mb": result["peak_rss_mb"], "duplicates": stats["duplicates"],
            "lost": args.supporters - stats["distinct"],
            "fan_out_seconds": result["fan_out_seconds"], "sent": result["sent"],
            "requests": stats["statuses"].get("202", 0), "workers": args.workers,
            "threads": args.threads, "batch_size": args.batch_size,
            "chunk_size": args.chunk_size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20,000 supporters")
    parser.add_argument("--supporters", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--chunk-size", type=int, default=5000)
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    if args.quick:
        args.supporters = 20_000
    print(json.dumps(run(args)), flush=True)


if __name__ == "__main__":
    main()
