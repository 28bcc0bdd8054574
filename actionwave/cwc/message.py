"""CWC 2.0 XML: delivery, recipient office, constituent, and a message that keeps the
organization's statement apart from the constituent's own words.

The element names, order and limits follow ``actionwave.cwc.grammar``; a document is checked
against it before it is sent (``actionwave.delivery.cwc_sending``).
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date

from actionwave.cwc.grammar import xml_text
from actionwave.platform.config import Settings

CWC_VERSION = "2.0"
# The prefixes a supporter picks from: stored and sent to CWC as written here, shown translated
# (``prefix_mr`` for "Mr." ... in web/translations). CWC requires a prefix of every constituent.
PREFIXES = ("Mr.", "Ms.", "Mrs.", "Miss", "Mx.", "Dr.", "Prof.", "Rev.", "Hon.")


@dataclass(frozen=True)
class CwcDelivery:
    delivery_id: str  # 32 letters/digits, unique per message: derived from our idempotency key
    agent: str
    agent_ack_email: str
    agent_contact_name: str
    agent_contact_email: str
    agent_contact_phone: str
    organization: str  # optional in CWC: left out when empty
    campaign_id: str


@dataclass(frozen=True)
class CwcConstituent:
    first_name: str
    last_name: str
    address1: str
    city: str
    state: str
    zip: str
    email: str
    prefix: str


@dataclass(frozen=True)
class CwcMessage:
    subject: str
    topic: str
    organization_statement: str
    constituent_message: str
    bill_congress: int | None = None
    bill_type: str | None = None
    bill_number: int | None = None
    pro_or_con: str = "Pro"


def delivery_id(key: str) -> str:
    """A stable 32-character CWC DeliveryId for our idempotency key (CWC dedupes on it)."""
    return hashlib.sha256(key.encode()).hexdigest()[:32].upper()


def build_cwc_xml(delivery: CwcDelivery, member_office: str, constituent: CwcConstituent,
                  message: CwcMessage, on: date) -> bytes:
    """The CWC 2.0 document (UTF-8). Text is escaped by ElementTree, never interpolated."""
    root = ET.Element("CWC")
    _add(root, "CWCVersion", CWC_VERSION)
    node = ET.SubElement(root, "Delivery")
    _add(node, "DeliveryId", delivery.delivery_id)
    _add(node, "DeliveryDate", on.strftime("%Y%m%d"))
    _add(node, "DeliveryAgent", delivery.agent)
    _add(node, "DeliveryAgentAckEmailAddress", delivery.agent_ack_email)
    contact = ET.SubElement(node, "DeliveryAgentContact")
    _add(contact, "DeliveryAgentContactName", delivery.agent_contact_name)
    _add(contact, "DeliveryAgentContactEmail", delivery.agent_contact_email)
    _add(contact, "DeliveryAgentContactPhone", delivery.agent_contact_phone)
    if delivery.organization:
        _add(node, "Organization", delivery.organization)
    _add(node, "CampaignId", delivery.campaign_id)
    recipient = ET.SubElement(root, "Recipient")
    _add(recipient, "MemberOffice", member_office)
    _add(recipient, "IsResponseRequested", "N")
    _add(recipient, "NewsletterOptIn", "N")
    person = ET.SubElement(root, "Constituent")
    _add(person, "Prefix", constituent.prefix)
    _add(person, "FirstName", constituent.first_name)
    _add(person, "LastName", constituent.last_name)
    _add(person, "Address1", constituent.address1)
    _add(person, "City", constituent.city)
    _add(person, "StateAbbreviation", constituent.state)
    _add(person, "Zip", constituent.zip)
    _add(person, "Email", constituent.email)
    body = ET.SubElement(root, "Message")
    _add(body, "Subject", message.subject)
    topics = ET.SubElement(body, "LibraryOfCongressTopics")
    _add(topics, "LibraryOfCongressTopic", message.topic)
    if message.bill_congress and message.bill_type and message.bill_number:
        bill = ET.SubElement(ET.SubElement(body, "Bills"), "Bill")
        _add(bill, "BillCongress", str(message.bill_congress))
        _add(bill, "BillTypeAbbreviation", message.bill_type.lower())
        _add(bill, "BillNumber", str(message.bill_number))
    _add(body, "ProOrCon", message.pro_or_con)
    if message.organization_statement.strip():
        _add(body, "OrganizationStatement", message.organization_statement)
    if message.constituent_message.strip():
        _add(body, "ConstituentMessage", message.constituent_message)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _add(parent: ET.Element, tag: str, text: str) -> ET.Element:
    """A child with ``text``, its line ends written as a parser will read them back, so what
    was checked is what CWC reads."""
    child = ET.SubElement(parent, tag)
    child.text = xml_text(text)
    return child


def agent_delivery(settings: Settings, key: str, campaign_slug: str) -> CwcDelivery:
    """The ``Delivery`` part from settings (checked when a worker starts:
    ``actionwave.cwc.agent``); ``key`` is the delivery's idempotency key."""
    contact = settings.cwc_agent_contact_email
    return CwcDelivery(
        delivery_id=delivery_id(key), agent=settings.cwc_delivery_agent,
        agent_ack_email=contact, agent_contact_name=settings.cwc_agent_contact_name,
        agent_contact_email=contact, agent_contact_phone=settings.cwc_agent_contact_phone,
        organization=settings.cwc_organization, campaign_id=campaign_slug,
    )
