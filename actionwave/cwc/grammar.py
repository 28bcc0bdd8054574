"""The CWC 2.0 grammar's constraints, encoded once: what a document must meet before it is POSTed.

Written from the RELAX NG grammar of a CWC 2.0 ``POST /v2/message`` document (the reference
``cwc_schema_v2.rng``, see ``docs/providers.md``): which elements, in which groups, how long each
text may be and which pattern each token follows. ``document_problems`` checks a whole document;
``FIELDS`` gives the rule of one element, so the intake and the planner can check a value before
a document is ever built.

The check is deliberately stricter than the grammar where that keeps it simple: elements must come
in the order we write them (the grammar lets most groups interleave), no element or attribute we
never write is accepted, and token values must already be in their normal form (no leading,
trailing or doubled spaces). The tests prove against the real grammar with ``lxml`` that every
document the product builds passes, and that this check never accepts a document the grammar
refuses.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

# Characters XML 1.0 allows; anything else makes a document no parser accepts.
XML_CHARS = re.compile("^[\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*$")
XML_SPACE = frozenset(" \t\r\n")

STATES = ("AK AL AR AS AZ CA CO CT DC DE FL GA GU HI IA ID IL IN KS KY LA MA MD ME MI MN MO MP "
          "MS MT NC ND NE NH NJ NM NV NY OH OK OR PA PR RI SC SD TN TX UT VA VI VT WA WI WV "
          "WY").split()
TOPICS = (
    "Agriculture and Food", "Animals", "Armed Forces and National Security",
    "Arts, Culture, Religion", "Civil Rights and Liberties, Minority Issues", "Commerce",
    "Congress", "Crime and Law Enforcement", "Economics and Public Finance", "Education",
    "Emergency Management", "Energy", "Environmental Protection", "Families",
    "Finance and Financial Sector", "Foreign Trade and International Finance",
    "Government Operations and Politics", "Health", "Housing and Community Development",
    "Immigration", "International Affairs", "Labor and Employment", "Law", "Native Americans",
    "Public Lands and Natural Resources", "Science, Technology, Communications",
    "Social Sciences and History", "Social Welfare", "Sports and Recreation", "Taxation",
    "Transportation and Public Works", "Water Resources Development",
)
BILL_TYPES = ("hamdt", "hconres", "hjres", "hr", "hres", "s", "samdt", "sconres", "sjres", "sres")


def xml_text(value: str) -> str:
    """``value`` as a parser reads it back from a document: line ends become ``\\n``."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


@dataclass(frozen=True)
class Text:
    """``xsd:string`` with length bounds, counted in characters as a parser reads them."""

    min: int
    max: int

    def problem(self, value: str) -> str | None:
        value = xml_text(value)
        if not XML_CHARS.match(value):
            return "contains characters XML cannot carry"
        if len(value) < self.min:
            return f"at least {self.min} characters (has {len(value)})"
        if len(value) > self.max:
            return f"at most {self.max} characters (has {len(value)})"
        return None


@dataclass(frozen=True)
class Token:
    """``xsd:token`` matching ``pattern`` as a whole; ``example`` shows an operator the form."""

    pattern: str
    example: str

    def problem(self, value: str) -> str | None:
        normal = " ".join(part for part in re.split("[ \t\r\n]+", value) if part)
        if value != normal or not re.fullmatch(self.pattern, value):
            return f"must look like {self.example}"
        return None


@dataclass(frozen=True)
class Zip:
    """``xsd:string`` with a pattern: no whitespace is forgiven."""

    def problem(self, value: str) -> str | None:
        return None if re.fullmatch(r"[0-9]{5}(-[0-9]{4})?", value) else "must look like 12345"


@dataclass(frozen=True)
class OneOf:
    """A fixed list of values (the grammar's ``<value>`` choices), exactly as written."""

    values: tuple[str, ...]

    def problem(self, value: str) -> str | None:
        return None if value in self.values else f"must be one of {', '.join(self.values)}"


PHONE = Token(r"[0-9]{3}-[0-9]{3}-[0-9]{4}", "202-555-0123")
EMAIL = Token(r"[^@]+@[^.]+\..+", "name@example.org")
POSITIVE = Token(r"[1-9][0-9]*", "a whole number from 1")
Y_OR_N = Token(r"[YyNn]", "Y or N")

Rule = Text | Token | Zip | OneOf

# Every element that carries a value, by its path in the document.
FIELDS: dict[str, Rule] = {
    "CWCVersion": OneOf(("2.0",)),
    "Delivery/DeliveryId": Token(r"[a-zA-Z0-9]{32}", "32 letters or digits"),
    "Delivery/DeliveryDate": Token(r"[0-9]{8}", "20260301"),
    "Delivery/DeliveryAgent": Text(4, 500),
    "Delivery/DeliveryAgentAckEmailAddress": EMAIL,
    "Delivery/DeliveryAgentContact/DeliveryAgentContactName": Text(6, 500),
    "Delivery/DeliveryAgentContact/DeliveryAgentContactEmail": EMAIL,
    "Delivery/DeliveryAgentContact/DeliveryAgentContactPhone": PHONE,
    "Delivery/Organization": Text(6, 500),
    "Delivery/CampaignId": Text(2, 500),
    "Recipient/MemberOffice": Token(r"H[A-Z][A-Z][0-9][0-9]", "HNJ04 (a House office)"),
    "Recipient/IsResponseRequested": Y_OR_N,
    "Recipient/NewsletterOptIn": Y_OR_N,
    "Constituent/Prefix": Text(1, 500),
    "Constituent/FirstName": Text(1, 500),
    "Constituent/LastName": Text(1, 500),
    "Constituent/Address1": Text(3, 500),
    "Constituent/City": Text(3, 500),
    "Constituent/StateAbbreviation": OneOf(tuple(STATES)),
    "Constituent/Zip": Zip(),
    "Constituent/Email": EMAIL,
    "Message/Subject": Text(6, 500),
    "Message/LibraryOfCongressTopics/LibraryOfCongressTopic": OneOf(TOPICS),
    "Message/Bills/Bill/BillCongress": POSITIVE,
    "Message/Bills/Bill/BillTypeAbbreviation": OneOf(BILL_TYPES),
    "Message/Bills/Bill/BillNumber": POSITIVE,
    "Message/ProOrCon": Token(r"[Pp][Rr][Oo]|[Cc][Oo][Nn]", "Pro or Con"),
    "Message/OrganizationStatement": Text(6, 10000),
    "Message/ConstituentMessage": Text(6, 10000),
}


@dataclass(frozen=True)
class Child:
    """One child of a group: ``occurs`` is ``1``, ``?`` (optional), ``+`` or ``*``."""

    name: str
    occurs: str = "1"
    children: tuple[Child, ...] = ()


DOCUMENT = Child("CWC", children=(
    Child("CWCVersion"),
    Child("Delivery", children=(
        Child("DeliveryId"), Child("DeliveryDate"), Child("DeliveryAgent"),
        Child("DeliveryAgentAckEmailAddress"),
        Child("DeliveryAgentContact", children=(
            Child("DeliveryAgentContactName"), Child("DeliveryAgentContactEmail"),
            Child("DeliveryAgentContactPhone"))),
        Child("Organization", "?"), Child("CampaignId"))),
    Child("Recipient", children=(
        Child("MemberOffice"), Child("IsResponseRequested", "?"), Child("NewsletterOptIn", "?"))),
    Child("Constituent", children=tuple(Child(name) for name in (
        "Prefix", "FirstName", "LastName", "Address1", "City", "StateAbbreviation", "Zip",
        "Email"))),
    Child("Message", children=(
        Child("Subject"),
        Child("LibraryOfCongressTopics", children=(Child("LibraryOfCongressTopic", "+"),)),
        Child("Bills", "?", children=(Child("Bill", "*", children=(
            Child("BillCongress", "?"), Child("BillTypeAbbreviation", "?"),
            Child("BillNumber", "?"))),)),
        Child("ProOrCon", "?"), Child("OrganizationStatement", "?"),
        Child("ConstituentMessage", "?"))),
))


def document_problems(document: bytes) -> list[str]:
    """What keeps ``document`` from being a valid CWC 2.0 message; empty when it may be sent.
    Each problem names the element's path: ``Constituent/City: at least 3 characters (has 2)``.
    """
    try:
        root = ET.fromstring(document)
    except ET.ParseError as exc:
        return [f"not well-formed XML ({exc})"]
    if root.tag != DOCUMENT.name:
        return [f"the root element must be {DOCUMENT.name}, not {root.tag}"]
    problems = _group_problems(root, DOCUMENT, "")
    message = root.find("Message")
    if message is not None and not any(message.find(n) is not None for n in (
            "OrganizationStatement", "ConstituentMessage")):
        problems.append("Message: needs an OrganizationStatement or a ConstituentMessage")
    return problems


def _element_problems(element: ET.Element, spec: Child, path: str) -> list[str]:
    where = f"{path}/{spec.name}" if path else spec.name
    if not spec.children:
        if element.attrib or len(element):
            return [f"{where}: must hold text only"]
        problem = FIELDS[where].problem(element.text or "")
        return [f"{where}: {problem}"] if problem else []
    return _group_problems(element, spec, where)


def _group_problems(element: ET.Element, spec: Child, where: str) -> list[str]:
    """An element holding elements: no attributes, no text between them, and its children
    matched in order against ``spec.children``."""
    label = where or spec.name
    if element.attrib:
        return [f"{label}: attributes are not allowed"]
    if not _only_space(element.text) or any(not _only_space(c.tail) for c in element):
        return [f"{label}: text is not allowed between its elements"]
    elements: Sequence[ET.Element] = list(element)
    problems: list[str] = []
    position = 0
    for child in spec.children:
        count = 0
        while position < len(elements) and elements[position].tag == child.name:
            problems += _element_problems(elements[position], child, where)
            position += 1
            count += 1
            if child.occurs in ("1", "?"):
                break
        if count == 0 and child.occurs in ("1", "+"):
            problems.append(f"{label}: {child.name} is missing")
    if position < len(elements):
        problems.append(f"{label}: {elements[position].tag} is not expected here")
    return problems


def _only_space(text: str | None) -> bool:
    return text is None or set(text) <= XML_SPACE
