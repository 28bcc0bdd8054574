"""Finding a supporter's legislators from a ZIP, then (if the ZIP is split) an address or choice.

The ZIP answer never guesses: a ZIP spanning several districts is ``ambiguous`` with every
candidate. A street address (through the geocoder) or an explicit choice of district narrows it,
but only to one of the ZIP's own candidates; anything else keeps the ambiguous ZIP answer.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from actionwave.legislators.geocoder import Geocoder, GeocoderUnavailable
from actionwave.legislators.index import Answer, ZipIndex

log = logging.getLogger(__name__)

ZIP_RE = re.compile(r"^\s*(\d{5})(?:-\d{4})?\s*$")
MAX_ADDRESS = 200

# How the address (or district choice) was used; the page words its message from this.
NOT_NEEDED = "not_needed"      # the ZIP alone decides
NOT_GIVEN = "not_given"        # split ZIP, nothing given to decide it
MATCHED = "matched"            # the geocoder placed the address in one of the ZIP's districts
CHOSEN = "chosen"              # the supporter picked one of the ZIP's districts
NO_MATCH = "no_match"          # the geocoder found no single district for the address
OUTSIDE_ZIP = "outside_zip"    # the address lies in a district the ZIP doesn't touch
UNAVAILABLE = "unavailable"    # the geocoder failed or timed out


class ZipNotFound(LookupError):
    """The ZIP is not in the crosswalk (PO-box-only and single-organization ZIPs aren't)."""


class BadLookupInput(ValueError):
    """A lookup parameter is malformed; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class LookupResult:
    answer: Answer
    address_status: str


def parse_zip(raw: str | None) -> str:
    """A five-digit ZIP from ``12345`` or ``12345-6789``. Raises ``BadLookupInput``."""
    match = ZIP_RE.match(raw or "")
    if not match:
        raise BadLookupInput("zip", "must be a five-digit ZIP code")
    return match.group(1)


def parse_address(raw: str | None) -> str | None:
    """A single-line address of at most 200 characters, or None. Raises ``BadLookupInput``."""
    address = (raw or "").strip()
    if not address:
        return None
    if len(address) > MAX_ADDRESS:
        raise BadLookupInput("address", f"must be at most {MAX_ADDRESS} characters")
    if any(ch in address for ch in "\r\n\x00"):
        raise BadLookupInput("address", "must be a single line")
    return address


def parse_district(raw: str | None) -> int | None:
    """A chosen district number, or None. Raises ``BadLookupInput``."""
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or int(raw) > 60:
        raise BadLookupInput("district", "must be a district number")
    return int(raw)


def find_legislators(index: ZipIndex, zcta: str, *, address: str | None = None,
                     geocoder: Geocoder | None = None, district: int | None = None,
                     state: str | None = None) -> LookupResult:
    """Who represents someone in ``zcta``, narrowed by ``district``/``address`` if it's split.

    Raises ``ZipNotFound``. A failing geocoder is not an error: the ZIP answer comes back with
    ``address_status`` ``unavailable``. May block on the geocoder up to its timeout.
    """
    answer = index.answer(zcta)
    if answer is None:
        raise ZipNotFound(zcta)
    if not answer["ambiguous"]:
        return LookupResult(answer, NOT_NEEDED)
    seats = [(d["state"], d["district"]) for d in answer["districts"]]
    if district is not None:
        chosen = [seat for seat in seats if seat[1] == district and state in (None, seat[0])]
        if len(chosen) == 1:
            return LookupResult(index.narrow(zcta, *chosen[0]), CHOSEN)
    if not address or geocoder is None:
        return LookupResult(answer, NOT_GIVEN)
    try:
        location = geocoder.locate(f"{address}, {zcta}")
    except GeocoderUnavailable as exc:
        log.warning("geocoder unavailable, answering by ZIP: %s", exc)
        return LookupResult(answer, UNAVAILABLE)
    if location is None:
        return LookupResult(answer, NO_MATCH)
    if (location.state, location.district) not in seats:
        return LookupResult(answer, OUTSIDE_ZIP)
    return LookupResult(index.narrow(zcta, location.state, location.district), MATCHED)
