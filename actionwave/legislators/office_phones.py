"""The phone numbers a supporter can call: the Washington office and the nearest district office.

District offices come from the legislators data (``legislators-district-offices.yaml``, stored in
each legislator's ``info["offices"]`` and carried by the lookup as ``offices``). "Nearest" is by
ZIP code: ZIPs are assigned along postal routes, so the office whose ZIP is numerically closest
to the supporter's is, in practice, the one in their part of the state; without the supporter's
coordinates it is the best guess that needs no geocoding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class OfficePhone:
    city: str
    phone: str


def district_offices(offices: Sequence[Mapping[str, Any]] | None) -> list[dict[str, str]]:
    """The district offices that have a phone, as the lookup carries them (city, ZIP, phone)."""
    return [{"city": str(o.get("city") or ""), "zip": str(o.get("zip") or "")[:5],
             "phone": str(o["phone"])}
            for o in offices or () if isinstance(o, Mapping) and o.get("phone")]


def nearest_office(offices: Sequence[Mapping[str, Any]] | None,
                   zip_code: str | None) -> OfficePhone | None:
    """The district office with a phone whose ZIP is closest to ``zip_code`` (the first one
    listed when the supporter's ZIP is unknown); None when no district office has a phone."""
    with_phone = [o for o in offices or () if o.get("phone")]
    if not with_phone:
        return None
    if zip_code and zip_code[:5].isdigit():
        here = int(zip_code[:5])

        def distance(office: Mapping[str, Any]) -> int:
            there = str(office.get("zip") or "")[:5]
            return abs(int(there) - here) if there.isdigit() else 100_000

        with_phone.sort(key=distance)
    best = with_phone[0]
    return OfficePhone(city=str(best.get("city") or ""), phone=str(best["phone"]))
