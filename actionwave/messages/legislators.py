"""The few facts about a legislator that messages need, from any source that names them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

TITLES = {"house": "Rep.", "senate": "Sen."}
DELEGATE_STATES = frozenset({"DC", "PR", "GU", "VI", "AS", "MP"})


@dataclass(frozen=True)
class LegislatorRef:
    """A legislator as messages see them. ``handle`` is the X handle without ``@``."""

    bioguide_id: str
    name: str
    chamber: str
    state: str
    district: int | None = None
    handle: str | None = None
    contact_form: str | None = None
    cwc_office: str | None = None

    @property
    def title(self) -> str:
        if self.chamber == "house" and self.state in DELEGATE_STATES:
            return "Del."
        return TITLES.get(self.chamber, "")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> LegislatorRef:
        """Build from a lookup result or a ``Target`` row's columns plus its ``info``.

        Accepts ``twitter``/``handle`` for the X handle and ``contact_form``/``url``.
        """
        info = {**(data.get("info") or {}), **{k: v for k, v in data.items() if k != "info"}}
        handle = info.get("handle") or info.get("twitter") or None
        district = info.get("district")
        return cls(
            bioguide_id=str(info.get("bioguide_id") or info.get("bioguide") or ""),
            name=str(info.get("name") or ""),
            chamber=str(info.get("chamber") or "").lower(),
            state=str(info.get("state") or "").upper(),
            district=int(district) if district not in (None, "") else None,
            handle=str(handle).lstrip("@") if handle else None,
            contact_form=info.get("contact_form") or None,
            cwc_office=info.get("cwc_office") or None,
        )
