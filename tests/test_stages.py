"""Mapping congress.gov actions to stages, on the recorded responses."""

from __future__ import annotations

from actionwave.bill.stages import Stage, stage_of
from tests.stubs.congress import recorded_bills


def stages_by_code(key: tuple[str, str, str]) -> dict[str, Stage | None]:
    return {a.get("actionCode") or a["text"][:30]: stage_of(a)
            for a in recorded_bills()[key]["actions"]}


def test_library_of_congress_codes_decide_the_stage() -> None:
    hr3076 = stages_by_code(("117", "hr", "3076"))
    assert hr3076["17000"] == Stage("passed_senate", "senate")
    assert hr3076["28000"] == Stage("to_president", "")
    assert hr3076["36000"] == Stage("became_law", "")


def test_house_floor_codes_are_read_by_text_not_as_library_codes() -> None:
    hr21 = stages_by_code(("117", "hr", "21"))
    assert hr21["H11100"] == Stage("in_committee", "house")
    assert hr21["H37300"] == Stage("passed_house", "house")
    assert hr21["H30000"] is None and hr21["H8D000"] is None  # procedure, not a stage


def test_senate_actions_without_codes_are_read_from_text() -> None:
    hr21 = stages_by_code(("117", "hr", "21"))
    assert hr21["Received in the Senate and Rea"] == Stage("in_committee", "senate")
    assert stage_of({"text": "Vetoed by President.", "actionDate": "2020-01-01"}) == \
        Stage("vetoed", "")
    assert stage_of({"actionCode": "20500", "sourceSystem": {"code": 9},
                     "text": "anything"}) == Stage("resolving_differences", "")
