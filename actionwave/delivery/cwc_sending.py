"""CWC deliveries: what a CWC delivery's payload holds, and how it is sent to a House office.

A CWC delivery's ``payload`` holds ``office`` (the ``MemberOffice`` code, also the key of the
per-office rate limit) and ``cwc``: the constituent and message parts of the CWC 2.0 document as
plain values (see ``cwc_payload``). The ``Delivery`` part comes from settings when it is sent, with
a ``DeliveryId`` derived from the row's idempotency key, so every attempt at one delivery carries
the same ``DeliveryId``. One message per request: CWC takes one document per POST.

In-doubt sends (a timeout, or a worker killed after posting) cannot be looked up: CWC has no API
to ask whether a message arrived. Rule: such a delivery is sent again with the same
``DeliveryId`` (``lookup`` answers ``NOT_FOUND``; recovery counts it as ``in_doubt_resent``).
A message silently lost is the worse failure for a constituent, and a repeat is recognisable on
the House side as the same message because it carries the same ``DeliveryId``, the message's
identity in the CWC schema. We found no public CWC document saying how the House treats a
repeated ``DeliveryId``; if CWC answers a repeat with an error, the row fails with that reason
and organizers see it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from actionwave.core.channels import SendOutcome, Unsendable
from actionwave.cwc.client import CwcClient
from actionwave.cwc.grammar import document_problems
from actionwave.cwc.message import (
    CwcConstituent,
    CwcMessage,
    agent_delivery,
    build_cwc_xml,
    delivery_id,
)
from actionwave.delivery.claims import Claimed
from actionwave.platform.config import Settings

CWC_CHANNEL = "cwc"


def cwc_payload(office: str, constituent: CwcConstituent, message: CwcMessage,
                campaign_slug: str) -> dict[str, Any]:
    """The ``payload`` of a CWC delivery (JSON-ready)."""
    return {"office": office, "cwc": {"constituent": asdict(constituent),
                                      "message": asdict(message), "campaign": campaign_slug}}


def cwc_document(settings: Settings, delivery: Claimed, on: datetime | None = None) -> bytes:
    """The CWC 2.0 XML for a claimed delivery. Raises ``KeyError``/``TypeError`` for a payload
    that ``cwc_payload`` did not make. A payload planned before prefixes were collected gets an
    empty one, which the grammar check then refuses (nothing is invented)."""
    data = delivery.payload["cwc"]
    return build_cwc_xml(
        agent_delivery(settings, delivery.key, data["campaign"]), delivery.payload["office"],
        CwcConstituent(**{"prefix": "", **data["constituent"]}), CwcMessage(**data["message"]),
        (on or datetime.now(UTC)).date(),
    )


class CwcSender:
    """Sends CWC deliveries through ``CwcClient``; the engine's ``Sender`` for channel ``cwc``."""

    provider = "cwc"

    def __init__(self, settings: Settings, client: CwcClient | None = None) -> None:
        self.settings = settings
        self.client = client or CwcClient(settings)

    def requests(self, claimed: Sequence[Claimed]) -> list[list[Claimed]]:
        """One request per message."""
        return [[delivery] for delivery in claimed]

    def send(self, request: Sequence[Claimed]) -> str | None:
        """Post each message; returns CWC's answer as ``"<DeliveryId> <status>: <message>"``,
        stored as the row's ``provider_id``. Raises ``Retryable`` or ``Permanent`` (with CWC's
        ``<Error>`` texts) from the client, or ``Unsendable`` without posting anything when the
        document breaks the CWC grammar (``actionwave.cwc.grammar``)."""
        answer = None
        for delivery in request:
            document = cwc_document(self.settings, delivery)
            problems = document_problems(document)
            if problems:
                raise Unsendable("not sent: the CWC document is invalid: " + "; ".join(problems))
            receipt = self.client.deliver(document)
            answer = f"{delivery_id(delivery.key)} {receipt.status}: {_answer_text(receipt.body)}"
        return answer[:200] if answer else None

    def lookup(self, key: str) -> SendOutcome:
        """CWC can't be asked; see the module's rule: an in-doubt message is sent again with the
        same ``DeliveryId``."""
        return SendOutcome.NOT_FOUND


def _answer_text(body: str) -> str:
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return body.strip()[:150]
    texts = [t.strip() for t in root.itertext() if t.strip()]
    return " ".join(texts)[:150]
