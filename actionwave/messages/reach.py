"""What will actually happen with a supporter's message, per legislator, under today's settings.

"Delivered to the office" only when one of our channels carries it (CWC configured and covering
the office, or an address the organizers gave); otherwise the supporter's own ways in: the
office's contact form, compose links, the Washington office's phone and the nearest district
office's. The page before sending, the thanks page, the status page and the confirmation mail
all say it from here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from actionwave.legislators.office_phones import OfficePhone, nearest_office
from actionwave.messages.compose_links import ChannelChoice

# Channels that carry the message to the office without the supporter doing anything more.
DELIVERING_CHANNELS = frozenset({"cwc", "email"})


@dataclass(frozen=True)
class Reach:
    choice: ChannelChoice
    delivered: bool
    dc_phone: str | None
    district_office: OfficePhone | None

    @property
    def your_turn(self) -> bool:
        """Nothing of ours reaches this office: the supporter's own step is the message."""
        return not self.delivered


def reach_of(choices: Sequence[ChannelChoice], people: Mapping[str, Mapping[str, Any]],
             zip_code: str | None) -> list[Reach]:
    """One ``Reach`` per channel choice; ``people`` maps bioguide ids to lookup results (their
    ``phone`` and district ``offices``). Pure."""
    reach = []
    for choice in choices:
        person = people.get(choice.legislator.bioguide_id) or {}
        offices = person.get("offices")
        if offices is None:  # a target stored before the lookup carried offices
            offices = (person.get("info") or {}).get("offices")
        reach.append(Reach(choice=choice, delivered=choice.channel in DELIVERING_CHANNELS,
                           dc_phone=person.get("phone") or None,
                           district_office=nearest_office(offices or [], zip_code)))
    return reach
