"""Where a bill stands: map one congress.gov action to a stage (and a chamber when it has one).

Library of Congress actions (``sourceSystem`` code 9) carry the published numeric action codes,
which are a controlled vocabulary, so they decide first. The House floor's ``H...`` codes are a
different namespace that collides with the numeric one, and Senate actions often have no code,
so everything else is read from the text.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

STAGES = (
    "introduced", "in_committee", "reported", "passed_house", "passed_senate",
    "resolving_differences", "to_president", "became_law", "vetoed",
)
STAGE_LABELS = {
    "introduced": "introduced", "in_committee": "in committee", "reported": "reported",
    "passed_house": "passed the House", "passed_senate": "passed the Senate",
    "resolving_differences": "resolving differences", "to_president": "sent to the President",
    "became_law": "became law", "vetoed": "vetoed",
}
LOC_SOURCE_CODE = 9


class Stage(NamedTuple):
    stage: str
    chamber: str  # "house", "senate" or "" for stages of the whole Congress

    @property
    def key(self) -> str:
        """``in_committee:senate``; the form a wave's ``trigger_stage`` may name."""
        return f"{self.stage}:{self.chamber}" if self.chamber else self.stage


_BY_CODE: dict[str, Stage] = {
    "1000": Stage("introduced", "house"), "Intro-H": Stage("introduced", "house"),
    "10000": Stage("introduced", "senate"), "Intro-S": Stage("introduced", "senate"),
    "2000": Stage("in_committee", "house"), "3000": Stage("in_committee", "house"),
    "11000": Stage("in_committee", "senate"), "12000": Stage("in_committee", "senate"),
    "5000": Stage("reported", "house"), "14000": Stage("reported", "senate"),
    "8000": Stage("passed_house", "house"), "17000": Stage("passed_senate", "senate"),
    "28000": Stage("to_president", ""), "E20000": Stage("to_president", ""),
    "31000": Stage("vetoed", ""), "36000": Stage("became_law", ""),
    "E40000": Stage("became_law", ""),
}
_RESOLVING_CODES = range(19000, 25000)  # conference and amendment exchange between chambers

_BY_TEXT: tuple[tuple[re.Pattern[str], Stage | None], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), stage) for pattern, stage in (
        (r"^introduced in (the )?house", Stage("introduced", "house")),
        (r"^introduced in (the )?senate", Stage("introduced", "senate")),
        (r"^received in the senate.*referred to", Stage("in_committee", "senate")),
        (r"^referred to (the )?house (committee|subcommittee)", Stage("in_committee", "house")),
        (r"^referred to the (senate )?committee", Stage("in_committee", "senate")),
        (r"^reported (by|to) (the )?house", Stage("reported", "house")),
        (r"^committee on .* reported", Stage("reported", "senate")),
        (r"^passed senate", Stage("passed_senate", "senate")),
        (r"^passed/agreed to in senate", Stage("passed_senate", "senate")),
        (r"^passed/agreed to in house", Stage("passed_house", "house")),
        (r"on (motion to suspend the rules and )?pass(age of)? the bill agreed to",
         Stage("passed_house", "house")),
        (r"conference report|resolving differences|house agreed to senate amendment",
         Stage("resolving_differences", "")),
        (r"senate agreed to house amendment", Stage("resolving_differences", "")),
        (r"^presented to president", Stage("to_president", "")),
        (r"^vetoed by president", Stage("vetoed", "")),
        (r"^became public law|^signed by president", Stage("became_law", "")),
    )
)


def stage_of(action: dict[str, Any]) -> Stage | None:
    """The stage an action moves the bill to, or None for procedural steps (debate, motions)."""
    code = str(action.get("actionCode") or "")
    source = (action.get("sourceSystem") or {}).get("code")
    if code and (source == LOC_SOURCE_CODE or not code.startswith("H")):
        if code in _BY_CODE:
            return _BY_CODE[code]
        if code.isdigit() and int(code) in _RESOLVING_CODES:
            return Stage("resolving_differences", "")
    text = (action.get("text") or "").strip()
    for pattern, stage in _BY_TEXT:
        if pattern.search(text):
            return stage
    return None
