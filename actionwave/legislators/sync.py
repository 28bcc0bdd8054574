"""Storing a validated source as a new snapshot and making it current in one transaction."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from actionwave.legislators.models import (
    CurrentSnapshot,
    Legislator,
    LegislatorSnapshot,
    ZipDistrict,
)
from actionwave.legislators.sources import SourceData

DELEGATE_AREAS = frozenset({"DC", "PR", "GU", "VI", "AS", "MP"})
CURRENT_ROW = 1
CHUNK_ROWS = 5000
# The previous snapshot is kept so a reader that read the old pointer just before the swap still
# finds its rows; older ones are deleted.
KEEP_SNAPSHOTS = 2


@dataclass
class SyncSummary:
    """What a sync stored, and how it differs from the snapshot it replaced."""

    snapshot_id: int
    members: dict[str, int]
    delegates: int
    vacancies: list[str]
    added: list[str]
    gone: list[str]
    zips: int
    split_zips: int
    previous_snapshot_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "snapshot_id": self.snapshot_id, "members": self.members,
            "delegates": self.delegates, "vacancies": self.vacancies, "added": self.added,
            "gone": self.gone, "zips": self.zips, "split_zips": self.split_zips,
        }


def store_steps(data: SourceData) -> int:
    """How many progress steps ``store_snapshot`` reports for ``data``."""
    return 2 + -(-len(data.zip_rows) // CHUNK_ROWS)


def current_snapshot_id(session: Session) -> int | None:
    """The snapshot readers use, or None before the first sync. One indexed read."""
    return session.scalar(
        select(CurrentSnapshot.snapshot_id).where(CurrentSnapshot.id == CURRENT_ROW)
    )


def store_snapshot(session: Session, data: SourceData,
                   on_step: Callable[[int], None] | None = None) -> SyncSummary:
    """Write ``data`` as a new snapshot and make it current; commits once at the end.

    Until that commit, readers keep seeing the previous snapshot; on any error the transaction
    is rolled back and nothing changes. Not meant to run twice at once (the later one wins).
    """
    step = on_step or (lambda _n: None)
    try:
        previous_id = current_snapshot_id(session)
        before = set(session.scalars(
            select(Legislator.bioguide_id).where(Legislator.snapshot_id == previous_id)
        )) if previous_id else set()
        summary = summarize(data, before)
        snapshot = LegislatorSnapshot(source=data.label[:500], summary={})
        session.add(snapshot)
        session.flush()
        session.execute(insert(Legislator), [{**m, "snapshot_id": snapshot.id}
                                             for m in data.members])
        step(1)
        rows = [{"snapshot_id": snapshot.id, "zcta": z, "state": s, "district": d}
                for z, s, d in data.zip_rows]
        for start in range(0, len(rows), CHUNK_ROWS):
            session.execute(insert(ZipDistrict), rows[start:start + CHUNK_ROWS])
            step(1)
        summary.snapshot_id = snapshot.id
        summary.previous_snapshot_id = previous_id
        snapshot.summary = summary.as_dict()
        _point_to(session, snapshot.id, previous_id)
        _drop_old_snapshots(session, snapshot.id)
        session.commit()
        step(1)
    except BaseException:
        session.rollback()
        raise
    return summary


def _point_to(session: Session, snapshot_id: int, previous_id: int | None) -> None:
    if previous_id is None:
        session.add(CurrentSnapshot(id=CURRENT_ROW, snapshot_id=snapshot_id))
        session.flush()
    else:
        session.execute(update(CurrentSnapshot).where(CurrentSnapshot.id == CURRENT_ROW)
                        .values(snapshot_id=snapshot_id))


def _drop_old_snapshots(session: Session, newest: int) -> None:
    kept = list(session.scalars(select(LegislatorSnapshot.id).where(LegislatorSnapshot.id <= newest)
                                .order_by(LegislatorSnapshot.id.desc()).limit(KEEP_SNAPSHOTS)))
    oldest_kept = min(kept)
    for table in (ZipDistrict, Legislator):
        session.execute(delete(table).where(table.snapshot_id < oldest_kept))
    session.execute(delete(LegislatorSnapshot).where(LegislatorSnapshot.id < oldest_kept))


def summarize(data: SourceData, before: set[str]) -> SyncSummary:
    """Counts for the sync report; ``before`` is the previous snapshot's bioguide ids."""
    members = Counter(m["chamber"] for m in data.members)
    house = {(m["state"], m["district"]) for m in data.members if m["chamber"] == "house"}
    senators = Counter(m["state"] for m in data.members if m["chamber"] == "senate")
    seats = {(s, d) for _z, s, d in data.zip_rows}
    states = {s for s, _d in seats} - DELEGATE_AREAS
    vacancies = [f"{s}-{d}" for s, d in sorted(seats - house)]
    vacancies += [f"{s} Senate" for s in sorted(states) for _ in range(2 - senators[s])]
    districts_per_zip = Counter(z for z, _s, _d in data.zip_rows)
    now = {m["bioguide_id"] for m in data.members}
    return SyncSummary(
        snapshot_id=0,
        members={"house": members["house"], "senate": members["senate"]},
        delegates=sum(1 for s, _d in house if s in DELEGATE_AREAS),
        vacancies=vacancies,
        added=sorted(now - before) if before else [],
        gone=sorted(before - now),
        zips=len(districts_per_zip),
        split_zips=sum(1 for n in districts_per_zip.values() if n > 1),
    )
