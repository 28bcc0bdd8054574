"""Fan a wave out to generated supporters; print one JSON line.

Keys: ``supporters`` (eligible), ``seconds`` (launch to fully fanned out), ``peak_rss_mb`` (this
process, which runs the fan-out exactly as the ``advance_waves`` task does), ``duplicates``
(supporters with more than one delivery of the wave) and ``lost`` (eligible supporters with
none). ``delivery`` is null: sending the rows belongs to the delivery engine (not measured here).

    python -m bench.wave            # 100,000 supporters
    python -m bench.wave --quick    # 20,000 supporters, well under 30 s
"""

from __future__ import annotations

import argparse
import json
import resource
import time

from sqlalchemy import func, select, text

from actionwave.campaigns import load_campaign
from actionwave.config import Settings
from actionwave.models import Delivery, Supporter
from actionwave.services import Services
from actionwave.waves.launch import create_wave, fan_out_wave, launch_wave
from bench.harness import ROOT, scratch_database


def run(count: int, chunk_size: int) -> dict[str, object]:
    with scratch_database() as url:
        services = Services(Settings.from_env({}, database_url=url))
        try:
            with services.session() as session:
                campaign = load_campaign(session, ROOT / "campaigns/hketo-certification-act.yaml")
                session.execute(text(
                    "INSERT INTO supporters (email, first_name, last_name, state, zip, district,"
                    " locale, consent, created_at, updated_at) SELECT 'b' || g || '@example.org',"
                    " 'B', 'M', 'CA', '94110', 11, 'en', true, now(), now()"
                    " FROM generate_series(1, :n) g"), {"n": count})
                wave_id = create_wave(session, campaign.id, "bench").id
                session.commit()
                started = time.perf_counter()
                launch_wave(session, wave_id)
                fan_out_wave(session, wave_id, chunk_size)
                seconds = time.perf_counter() - started
                duplicates = session.scalar(select(func.count()).select_from(
                    select(Delivery.supporter_id).where(Delivery.wave_id == wave_id)
                    .group_by(Delivery.supporter_id).having(func.count() > 1).subquery()))
                lost = session.scalar(select(func.count()).select_from(Supporter).where(
                    ~select(Delivery.id).where(Delivery.wave_id == wave_id,
                                               Delivery.supporter_id == Supporter.id).exists()))
        finally:
            services.close()
    return {"supporters": count, "seconds": round(seconds, 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "duplicates": duplicates, "lost": lost, "chunk_size": chunk_size, "delivery": None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20,000 supporters")
    parser.add_argument("--supporters", type=int, default=100_000)
    parser.add_argument("--chunk-size", type=int, default=5000)
    args = parser.parse_args()
    print(json.dumps(run(20_000 if args.quick else args.supporters, args.chunk_size)))


if __name__ == "__main__":
    main()
