"""The in-memory ZIP index: every ZIP's answer computed once per snapshot, then a dict lookup.

An answer is the lookup JSON: ``{"zip", "ambiguous", "districts", "senators",
"representatives"}``. Answers share their legislator dicts, so they are read-only.
"""

from __future__ import annotations

import gc
import json
import logging
import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from actionwave.legislators.models import Legislator, ZipDistrict
from actionwave.legislators.sync import current_snapshot_id

log = logging.getLogger(__name__)

Answer = dict[str, Any]
Seat = tuple[str, int]

# ZIPs of the island areas that the ZCTA crosswalk leaves out (it has no rows for them), by their
# USPS assignment. Each area has one delegate and no senators.
ISLAND_ZIPS: dict[str, tuple[int, int]] = {
    "VI": (801, 851), "GU": (96910, 96932), "MP": (96950, 96952), "AS": (96799, 96799),
}
PUBLIC_FIELDS = ("bioguide_id", "name", "chamber", "party", "state", "district", "phone", "url",
                 "contact_form", "twitter", "cwc_office")


class NoSnapshot(LookupError):
    """No legislator data has been synced yet (run ``actionwave data sync``)."""


def public_legislator(row: Legislator) -> dict[str, Any]:
    """A legislator as the lookup shows them, with their district offices' phones."""
    from actionwave.legislators.office_phones import district_offices

    return {**{name: getattr(row, name) for name in PUBLIC_FIELDS},
            "offices": district_offices((row.info or {}).get("offices"))}


class ZipIndex:
    """Answers by ZIP for one snapshot. Built once; lookups are a dict access."""

    def __init__(self, snapshot_id: int, legislators: Iterable[Legislator],
                 zip_rows: Iterable[tuple[str, str, int]]) -> None:
        self.snapshot_id = snapshot_id
        self.senators: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.seats: dict[Seat, dict[str, Any]] = {}
        for row in sorted(legislators, key=lambda r: (r.senate_class or 0, r.bioguide_id)):
            if row.chamber == "senate":
                self.senators[row.state].append(public_legislator(row))
            elif row.district is not None:
                self.seats[(row.state, row.district)] = public_legislator(row)
        by_zip: dict[str, list[Seat]] = defaultdict(list)
        for zcta, state, district in zip_rows:
            by_zip[zcta].append((state, district))
        for state, (low, high) in ISLAND_ZIPS.items():
            for number in range(low, high + 1):
                by_zip.setdefault(f"{number:05d}", [(state, 0)])
        self._districts: dict[Seat, dict[str, Any]] = {}
        self.answers: dict[str, Answer] = {
            zcta: self.compose(zcta, sorted(seats)) for zcta, seats in by_zip.items()
        }
        self._json: dict[str, bytes] = {}

    def compose(self, zcta: str, seats: list[Seat]) -> Answer:
        """The answer for ``zcta`` lying in ``seats`` (several seats: ambiguous)."""
        states = list(dict.fromkeys(state for state, _ in seats))
        return {
            "zip": zcta,
            "ambiguous": len(seats) > 1,
            "districts": [self._district(seat) for seat in seats],
            "senators": [s for state in states for s in self.senators.get(state, ())],
            "representatives": [self.seats.get(seat) or self._vacant(seat) for seat in seats],
        }

    def _district(self, seat: Seat) -> dict[str, Any]:
        if seat not in self._districts:
            self._districts[seat] = {"state": seat[0], "district": seat[1]}
        return self._districts[seat]

    @staticmethod
    def _vacant(seat: Seat) -> dict[str, Any]:
        return {"state": seat[0], "district": seat[1], "vacant": True}

    def answer(self, zcta: str) -> Answer | None:
        """The answer for a five-digit ZIP, or None when the crosswalk doesn't know it."""
        return self.answers.get(zcta)

    def narrow(self, zcta: str, state: str, district: int) -> Answer:
        """The answer for ``zcta`` once the supporter's district is known."""
        return self.compose(zcta, [(state, district)])

    def answer_json(self, zcta: str) -> bytes | None:
        """The answer serialised, cached per ZIP (the HTTP endpoint's hot path)."""
        cached = self._json.get(zcta)
        if cached is None:
            answer = self.answers.get(zcta)
            if answer is None:
                return None
            cached = self._json[zcta] = json.dumps(answer, separators=(",", ":")).encode()
        return cached


def load_index(session: Session, zips: Collection[str] | None = None) -> ZipIndex:
    """Build the index of the current snapshot, or only of ``zips``. Raises ``NoSnapshot``."""
    snapshot_id = current_snapshot_id(session)
    if snapshot_id is None:
        raise NoSnapshot("no legislator data loaded yet")
    rows_query = select(ZipDistrict.zcta, ZipDistrict.state, ZipDistrict.district).where(
        ZipDistrict.snapshot_id == snapshot_id
    )
    people_query = select(Legislator).where(Legislator.snapshot_id == snapshot_id)
    if zips is not None:
        rows_query = rows_query.where(ZipDistrict.zcta.in_(zips))
    zip_rows = [tuple(row) for row in session.execute(rows_query)]
    if zips is not None:
        states = {state for _z, state, _d in zip_rows} | set(ISLAND_ZIPS)
        people_query = people_query.where(Legislator.state.in_(states))
    legislators = session.scalars(people_query)
    return ZipIndex(snapshot_id, legislators, zip_rows)  # type: ignore[arg-type]


class IndexCache:
    """The current snapshot's index for this process, rebuilt when the snapshot changes.

    The current snapshot id is read from the database at most every ``check_every`` seconds, so
    a lookup normally costs a clock read and a dict access. Thread-safe. If the database can't
    be reached for a check, the index already built keeps serving.
    """

    def __init__(self, session_factory: sessionmaker[Session], check_every: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._session_factory = session_factory
        self._check_every = check_every
        self._clock = clock
        self._index: ZipIndex | None = None
        self._checked_at = -math.inf
        self._lock = threading.Lock()

    def get(self, session: Session | None = None) -> ZipIndex:
        """The index. Raises ``NoSnapshot``; database errors only while no index exists.

        A caller that already has a session open passes it, so a check doesn't need a second
        connection (on SQLite a second writer-locked transaction would wait for the first).
        """
        index = self._index
        if index is not None and self._clock() - self._checked_at < self._check_every:
            return index
        with self._lock:
            return self._refresh(session)

    def _refresh(self, session: Session | None) -> ZipIndex:
        now = self._clock()
        if self._index is not None and now - self._checked_at < self._check_every:
            return self._index
        try:
            if session is None:
                with self._session_factory() as own:
                    self._load(own)
            else:
                self._load(session)
        except OperationalError:
            if self._index is None:
                raise
            log.warning("could not check the legislator snapshot; serving %s",
                        self._index.snapshot_id)
        self._checked_at = now
        return self._index

    def _load(self, session: Session) -> None:
        snapshot_id = current_snapshot_id(session)
        if snapshot_id is None:
            raise NoSnapshot("no legislator data loaded yet")
        if self._index is None or self._index.snapshot_id != snapshot_id:
            self._index = load_index(session)
            # It lives as long as its snapshot: out of the garbage collector's sight, its
            # ~136,000 objects no longer lengthen every full pass (docs/performance.md). An
            # index replaced later is still freed: it holds no reference cycles, so reference
            # counting takes it.
            gc.freeze()
