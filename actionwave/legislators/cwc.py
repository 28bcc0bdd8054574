"""Communicating with Congress (CWC) office codes, the ``MemberOffice`` of a CWC message.

House: ``H`` + state + two-digit district, at-large seats and delegates ``00`` (``HCA13``,
``HWY00``), the convention of the House CWC programme.

Senate: ``S`` + state + the senator's class as two digits (``SWA01`` for a class I senator of
Washington). A state's two senators always belong to different classes, so the code names one
seat and survives a change of senator, as the House code does. We could not confirm the Senate
suffix against a primary source; it is derived only here, so a correction is a one-line change.
"""

from __future__ import annotations


def cwc_office(chamber: str, state: str, district: int | None, senate_class: int | None) -> str:
    """The CWC office code for a seat. Raises ``ValueError`` when the seat is incomplete."""
    if chamber == "house" and district is not None:
        return f"H{state}{district:02d}"
    if chamber == "senate" and senate_class in (1, 2, 3):
        return f"S{state}{senate_class:02d}"
    raise ValueError(f"no CWC office for {chamber} {state} {district} {senate_class}")
