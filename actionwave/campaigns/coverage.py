"""Which sitting legislators a campaign can reach, and how, so organizers can fill the gaps.

A legislator's best channel is decided by ``actionwave.messages.compose_links.plan_channels``,
the same function the campaign page uses: CWC (House, when configured), an organizer-supplied
target address, their contact form, or ``none``. Adding a target address here, or a contact form
or CWC office code in bulk (``actionwave.campaigns.coverage_csv``), is what moves a legislator out
of ``none``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from actionwave.legislators.models import Legislator
from actionwave.legislators.sync import current_snapshot_id
from actionwave.messages.compose_links import CHANNELS, ChannelChoice, plan_channels
from actionwave.messages.legislators import LegislatorRef
from actionwave.messages.models import TargetAddress, office_channels, target_addresses

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


class CoverageError(ValueError):
    """A target address the organizer gave can't be stored; ``field`` names what to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class CoverageReport:
    """Every current legislator's channel, and how many legislators each channel reaches."""

    choices: list[ChannelChoice]
    counts: dict[str, int]

    def with_channel(self, channel: str) -> list[ChannelChoice]:
        return [c for c in self.choices if c.channel == channel]

    def by_chamber(self) -> dict[str, dict[str, int]]:
        """Chamber (``house``, ``senate``) -> channel -> legislators, every channel present."""
        return {chamber: _counts(c for c in self.choices if c.legislator.chamber == chamber)
                for chamber in ("house", "senate")}

    def by_state(self, chamber: str) -> list[tuple[str, dict[str, int]]]:
        """(state, channel -> legislators) for one chamber's members, states in order."""
        states = sorted({c.legislator.state for c in self.choices
                         if c.legislator.chamber == chamber})
        return [(state, _counts(c for c in self.choices if c.legislator.chamber == chamber
                                and c.legislator.state == state)) for state in states]


def _counts(choices: Iterable[ChannelChoice]) -> dict[str, int]:
    counts = Counter(c.channel for c in choices)
    return {channel: counts.get(channel, 0) for channel in CHANNELS}


def coverage(session: Session, campaign_id: int, *, cwc_enabled: bool) -> CoverageReport:
    """The channel plan for all legislators of the current snapshot (none before a sync)."""
    snapshot = current_snapshot_id(session)
    rows = [] if snapshot is None else session.scalars(
        select(Legislator).where(Legislator.snapshot_id == snapshot)
        .order_by(Legislator.state, Legislator.chamber.desc(), Legislator.district,
                  Legislator.name))
    people = [LegislatorRef(r.bioguide_id, r.name, r.chamber, r.state, r.district, r.twitter,
                            r.contact_form, r.cwc_office) for r in rows]
    choices = plan_channels(people, cwc_enabled=cwc_enabled,
                            addresses=target_addresses(session, campaign_id), subject="",
                            bodies={}, overrides=office_channels(session))
    return CoverageReport(choices, _counts(choices))


def add_target_address(session: Session, campaign_id: int | None, bioguide_id: str, email: str,
                       label: str = "") -> bool:
    """Give a sitting legislator's office an address (for one campaign, or all with None).

    True if stored, False if it was already there (idempotent). Raises ``CoverageError`` for a
    malformed address or a bioguide id not in the current snapshot. Commits.
    """
    email = email.strip()
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise CoverageError("email", "an email address such as office@mail.house.gov")
    snapshot = current_snapshot_id(session)
    known = snapshot is not None and session.get(Legislator, (snapshot, bioguide_id)) is not None
    if not known:
        raise CoverageError("bioguide_id", "not a sitting legislator")
    # Looked up rather than left to the unique constraint: NULL campaign ids never conflict.
    same_campaign = (TargetAddress.campaign_id.is_(None) if campaign_id is None
                     else TargetAddress.campaign_id == campaign_id)
    if session.scalar(select(TargetAddress.id).where(
            same_campaign, TargetAddress.bioguide_id == bioguide_id,
            func.lower(TargetAddress.email) == email.lower())) is not None:
        return False
    session.add(TargetAddress(campaign_id=campaign_id, bioguide_id=bioguide_id, email=email,
                              label=label.strip()[:100]))
    session.commit()
    return True
