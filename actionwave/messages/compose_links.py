"""Links that open a prefilled message in the supporter's own mailbox, and the channel plan.

``plan_channels`` decides, per legislator, the best honest channel and returns what the page
shows: CWC for House offices when CWC is configured; our email (SendGrid) when an organizer gave
an address for that office; compose links (mailto, Gmail, Outlook) from the supporter's own
mailbox when an address is known; the member's contact form as the last resort. A CWC office code
or contact form that organizers gave for an office (``messages.models.OfficeChannel``) wins over
the legislator data's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol
from urllib.parse import quote, urlencode

from actionwave.legislators.cwc import cwc_office
from actionwave.messages.legislators import LegislatorRef

GMAIL = "https://mail.google.com/mail/"
OUTLOOK = "https://outlook.office.com/mail/deeplink/compose"
# Mail clients and browsers cut long URLs; keep bodies in links below this many characters.
MAX_LINK_BODY = 1800

CHANNELS = ("cwc", "email", "compose", "contact_form", "none")


@dataclass(frozen=True)
class ComposeLinks:
    mailto: str
    gmail: str
    outlook: str


def compose_links(to: str, subject: str, body: str) -> ComposeLinks:
    """mailto:, Gmail and Outlook compose URLs for one message (body shortened if very long)."""
    if len(body) > MAX_LINK_BODY:
        body = body[:MAX_LINK_BODY].rstrip() + "…"
    mailto = f"mailto:{quote(to, safe='@')}?" + urlencode(
        {"subject": subject, "body": body}, quote_via=quote)
    gmail = GMAIL + "?" + urlencode({"view": "cm", "fs": "1", "to": to, "su": subject,
                                     "body": body}, quote_via=quote)
    outlook = OUTLOOK + "?" + urlencode({"to": to, "subject": subject, "body": body},
                                        quote_via=quote)
    return ComposeLinks(mailto=mailto, gmail=gmail, outlook=outlook)


class ChannelOverride(Protocol):
    """What organizers know better than the legislator data about one office (None: the data's
    value stands)."""

    cwc_office: str | None
    contact_form: str | None


def with_override(legislator: LegislatorRef,
                  override: ChannelOverride | None) -> LegislatorRef:
    if override is None:
        return legislator
    return replace(legislator, cwc_office=override.cwc_office or legislator.cwc_office,
                   contact_form=override.contact_form or legislator.contact_form)


@dataclass(frozen=True)
class ChannelChoice:
    """How one legislator is reached. ``channel`` is one of ``CHANNELS``."""

    legislator: LegislatorRef
    channel: str
    address: str | None = None
    cwc_office: str | None = None
    compose: ComposeLinks | None = None
    contact_form: str | None = None


def cwc_office_code(legislator: LegislatorRef) -> str | None:
    """The House office code CWC expects (``HNJ04``; at-large and delegates ``00``)."""
    if legislator.chamber != "house":
        return None
    return legislator.cwc_office or cwc_office("house", legislator.state,
                                               legislator.district or 0, None)


def plan_channels(
    legislators: Sequence[LegislatorRef],
    *,
    cwc_enabled: bool,
    addresses: Mapping[str, str],
    subject: str,
    bodies: Mapping[str, str],
    email_enabled: bool = True,
    overrides: Mapping[str, ChannelOverride] | None = None,
) -> list[ChannelChoice]:
    """Pick each legislator's channel, best first. Pure: no I/O.

    ``addresses`` maps bioguide ids to organizer-supplied target addresses; ``bodies`` maps
    bioguide ids to the message text used in compose links; ``overrides`` maps them to the CWC
    office codes and contact forms organizers gave (``messages.models.office_channels``), which
    win over the legislators' own. With ``email_enabled`` False an address is offered only
    through compose links from the supporter's own mailbox.
    """
    plan = []
    for legislator in legislators:
        legislator = with_override(legislator, (overrides or {}).get(legislator.bioguide_id))
        address = addresses.get(legislator.bioguide_id)
        compose = (compose_links(address, subject, bodies.get(legislator.bioguide_id, ""))
                   if address else None)
        office = cwc_office_code(legislator) if cwc_enabled else None
        if office:
            choice = ChannelChoice(legislator, "cwc", address, office, compose,
                                   legislator.contact_form)
        elif address and not email_enabled:
            choice = ChannelChoice(legislator, "compose", address, None,
                                   compose, legislator.contact_form)
        elif address:
            choice = ChannelChoice(legislator, "email", address, None, compose,
                                   legislator.contact_form)
        elif legislator.contact_form:
            choice = ChannelChoice(legislator, "contact_form",
                                   contact_form=legislator.contact_form)
        else:
            choice = ChannelChoice(legislator, "none")
        plan.append(choice)
    return plan
