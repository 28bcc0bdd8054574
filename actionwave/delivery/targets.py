"""The target planner: which channel carries a supporter's letter to each legislator, and what.

For each target ``actionwave.messages.compose_links.plan_channels`` picks the best honest channel:

- ``cwc`` (House offices, when ``CWC_API_URL`` and ``CWC_API_KEY`` are set): a CWC delivery
  whose payload holds the document's parts (``cwc_sending.cwc_payload``), when those parts meet
  the CWC grammar (``actionwave.cwc.grammar``: a prefix, a street address, a city of at least 3
  characters, ...). When real data can't (a two-letter town), nothing is padded or invented: the
  office gets its next channel, and the target's ``info["cwc_refused"]`` records why, for the
  confirmation to say so;
- ``email`` (an organizer supplied an address for the office, ``messages.models``): a letter
  through SendGrid (the dev outbox without a key), payload ``{"mail": …, "office": <code>}``;
- otherwise nothing is sent on the supporter's behalf: the page offers compose links and the
  member's contact form, and the confirmation lists them.

The letter is the organization's statement rendered for the legislator plus the supporter's own
message, carried verbatim and apart (``actionwave.messages.letters``). Letters to offices carry no
``reply_to``, so letters of many supporters share SendGrid requests; the supporter's name, place
and address are in the signature.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from actionwave.core.models import Action, Campaign, Supporter, Target
from actionwave.cwc.client import CwcClient
from actionwave.cwc.grammar import FIELDS
from actionwave.cwc.message import CwcConstituent, CwcMessage
from actionwave.delivery.cwc_sending import CWC_CHANNEL, cwc_payload
from actionwave.delivery.mailing import MAIL_CHANNEL, mail_payload
from actionwave.delivery.planning import PlannedDelivery
from actionwave.messages.compose_links import cwc_office_code, plan_channels
from actionwave.messages.legislators import LegislatorRef
from actionwave.messages.letters import Letter, templates_of, variables, write_letter
from actionwave.messages.models import OfficeChannel, office_channels, target_addresses
from actionwave.platform.config import Settings

# The Library of Congress topic CWC files campaign messages under (one of CWC's fixed list).
CWC_TOPIC = "International Affairs"
# The parts of a CWC document a planner fills, by grammar path, and the form field (or
# ``campaign`` for the organizers' text) a refusal is put down to.
CWC_PARTS = {
    "Constituent/Prefix": "prefix", "Constituent/FirstName": "first_name",
    "Constituent/LastName": "last_name", "Constituent/Address1": "address",
    "Constituent/City": "city", "Constituent/StateAbbreviation": "state",
    "Constituent/Zip": "zip", "Constituent/Email": "email",
    "Message/ConstituentMessage": "message", "Message/Subject": "campaign",
    "Message/OrganizationStatement": "campaign", "Delivery/CampaignId": "campaign",
    "Message/Bills/Bill/BillTypeAbbreviation": "campaign",
}


def legislator_of(target: Target) -> LegislatorRef:
    """The legislator a stored target names (its columns win over its lookup ``info``)."""
    return LegislatorRef.from_mapping({
        "info": target.info, "bioguide_id": target.bioguide_id, "name": target.name,
        "chamber": target.chamber, "state": target.state, "district": target.district,
        "cwc_office": target.cwc_office})


class TargetPlanner:
    """``plan_targets`` for ``plan_deliveries``. Pure reads. Keeps each campaign (with its
    templates) and its target addresses for its own lifetime, so make one per batch of actions
    and session, not one per process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.cwc_configured = CwcClient.configured(settings)
        self._addresses: dict[int, dict[str, str]] = {}
        self._campaigns: dict[int, Campaign] = {}
        self._overrides: dict[str, OfficeChannel] | None = None

    def __call__(self, session: Session, action: Action,
                 targets: Sequence[Target]) -> list[PlannedDelivery]:
        """One delivery per target reachable by CWC or email; none for the rest."""
        campaign = self._campaign(session, action.campaign_id)
        templates = templates_of(campaign, "email", action.locale)
        if not targets or not templates:
            return []
        supporter = session.get_one(Supporter, action.supporter_id)
        place = _Place.of(action, supporter, targets[0].state)
        addresses = self._addresses_of(session, campaign.id)
        choices = plan_channels([legislator_of(t) for t in targets],
                                cwc_enabled=self.cwc_configured, addresses=addresses,
                                subject="", bodies={},
                                overrides=self._overrides_of(session))
        planned = []
        for target, choice in zip(targets, choices, strict=True):
            if choice.channel not in (CWC_CHANNEL, MAIL_CHANNEL):
                continue  # compose links and contact forms: nothing to send on their behalf
            legislator = choice.legislator
            letter = write_letter(
                templates[0],
                variables(campaign, legislator, action.locale, first_name=supporter.first_name,
                          city=place.city, state=place.state),
                action.message or "", place.signature(supporter))
            if choice.channel == CWC_CHANNEL and choice.cwc_office:
                constituent = place.constituent(supporter)
                message = _cwc_message(campaign, letter)
                refused = cwc_refusals(constituent, message, campaign.slug)
                if not refused:
                    planned.append(PlannedDelivery(
                        CWC_CHANNEL, choice.cwc_office, f"cwc:{legislator.bioguide_id}",
                        cwc_payload(choice.cwc_office, constituent, message, campaign.slug),
                        target_id=target.id))
                    continue
                target.info = {**(target.info or {}), "cwc_refused": refused}
                [choice] = plan_channels([legislator], cwc_enabled=False, addresses=addresses,
                                         subject="", bodies={},
                                         overrides=self._overrides_of(session))
            if choice.address:
                office = (cwc_office_code(legislator) or legislator.cwc_office
                          or legislator.bioguide_id)
                mail = mail_payload(letter.subject, letter.text,
                                    to_name=f"{legislator.title} {legislator.name}".strip(),
                                    category="letter")
                planned.append(PlannedDelivery(
                    MAIL_CHANNEL, choice.address, f"email:{legislator.bioguide_id}",
                    {"mail": mail, "office": office}, target_id=target.id))
        return planned

    def _campaign(self, session: Session, campaign_id: int) -> Campaign:
        if campaign_id not in self._campaigns:
            self._campaigns[campaign_id] = session.get_one(Campaign, campaign_id)
        return self._campaigns[campaign_id]

    def _overrides_of(self, session: Session) -> dict[str, OfficeChannel]:
        if self._overrides is None:
            self._overrides = office_channels(session)
        return self._overrides

    def _addresses_of(self, session: Session, campaign_id: int) -> dict[str, str]:
        if campaign_id not in self._addresses:
            self._addresses[campaign_id] = target_addresses(session, campaign_id)
        return self._addresses[campaign_id]


@dataclass(frozen=True)
class _Place:
    """Where the supporter wrote from: this submission's details, else their profile."""

    address: str
    city: str
    state: str
    zip: str

    prefix: str

    @classmethod
    def of(cls, action: Action, supporter: Supporter, targets_state: str) -> _Place:
        """``targets_state``, the state of the supporter's legislators, stands in for a state
        the supporter left out (their ZIP decided it)."""
        details = action.details or {}
        return cls(str(details.get("address") or supporter.address or ""),
                   str(details.get("city") or supporter.city or ""),
                   str(details.get("state") or supporter.state or targets_state).upper(),
                   supporter.zip, str(details.get("prefix") or ""))

    def signature(self, supporter: Supporter) -> list[str]:
        town = " ".join(p for p in (f"{self.city}," if self.city else "", self.state, self.zip)
                        if p)
        return [f"{supporter.first_name} {supporter.last_name}".strip(), self.address, town,
                supporter.email]

    def constituent(self, supporter: Supporter) -> CwcConstituent:
        return CwcConstituent(first_name=supporter.first_name, last_name=supporter.last_name,
                              address1=self.address, city=self.city, state=self.state,
                              zip=self.zip, email=supporter.email, prefix=self.prefix)


def cwc_refusals(constituent: CwcConstituent, message: CwcMessage,
                 campaign_slug: str) -> dict[str, object]:
    """Why the CWC grammar would refuse a document with these parts: ``{"fields": [form fields,
    or "campaign"], "reason": "Constituent/City: at least 3 characters (has 2)"}``; empty when
    it would take them. Pure."""
    values = {
        "Constituent/Prefix": constituent.prefix, "Constituent/FirstName": constituent.first_name,
        "Constituent/LastName": constituent.last_name, "Constituent/Address1": constituent.address1,
        "Constituent/City": constituent.city, "Constituent/StateAbbreviation": constituent.state,
        "Constituent/Zip": constituent.zip, "Constituent/Email": constituent.email,
        "Message/Subject": message.subject, "Delivery/CampaignId": campaign_slug,
    }
    optional = {"Message/OrganizationStatement": message.organization_statement,
                "Message/ConstituentMessage": message.constituent_message,
                "Message/Bills/Bill/BillTypeAbbreviation": (message.bill_type or "").lower()}
    values.update({path: value for path, value in optional.items() if value.strip()})
    problems = {path: problem for path, value in values.items()
                if (problem := FIELDS[path].problem(value))}
    if not (message.organization_statement.strip() or message.constituent_message.strip()):
        problems["Message/OrganizationStatement"] = "no statement and no message to send"
    if not problems:
        return {}
    fields = sorted({CWC_PARTS[path] for path in problems})
    return {"fields": fields,
            "reason": "; ".join(f"{path}: {problem}" for path, problem in problems.items())}


def _cwc_message(campaign: Campaign, letter: Letter) -> CwcMessage:
    return CwcMessage(subject=letter.subject, topic=CWC_TOPIC,
                      organization_statement=letter.organization_statement.strip(),
                      constituent_message=letter.constituent_message.strip(),
                      bill_congress=campaign.bill_congress, bill_type=campaign.bill_type,
                      bill_number=campaign.bill_number)
