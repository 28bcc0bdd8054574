"""CWC 2.0 XML and its client, against the local CWC stub."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import pytest

from actionwave.core.channels import Permanent, Retryable
from actionwave.cwc.client import CwcClient
from actionwave.cwc.message import (
    CwcConstituent,
    CwcMessage,
    agent_delivery,
    build_cwc_xml,
    delivery_id,
)
from actionwave.platform.config import Settings
from tests.stubs.base import StubServer
from tests.stubs.cwc import AGENT, API_KEY, cwc_stub

PERSON = CwcConstituent(first_name="Ann", last_name="Lee", address1="1 Main St",
                        city="Lakewood", state="NJ", zip="08701", email="ann@example.com",
                        prefix="Ms.")
MESSAGE = CwcMessage(subject="H.R. 2661: act now", topic="International Affairs",
                     organization_statement="Dear Rep. Smith, please support H.R. 2661.",
                     constituent_message="My words <b>&</b> {{ literal }}",
                     bill_congress=119, bill_type="hr", bill_number=2661)


@pytest.fixture
def stub() -> Iterator[StubServer]:
    with cwc_stub() as server:
        yield server


def document(settings: Settings, key: str = "cwc:1") -> bytes:
    return build_cwc_xml(agent_delivery(replace(settings, **AGENT), key,
                                        "hketo-certification-act"),
                         "HNJ04", PERSON, MESSAGE, date(2026, 3, 1))


def test_xml_has_the_cwc_2_structure(settings: Settings) -> None:
    root = ET.fromstring(document(settings))
    assert root.tag == "CWC" and root.findtext("CWCVersion") == "2.0"
    assert root.findtext("Delivery/DeliveryId") == delivery_id("cwc:1")
    assert len(delivery_id("cwc:1")) == 32 and delivery_id("cwc:1").isalnum()
    assert root.findtext("Delivery/DeliveryDate") == "20260301"
    assert root.findtext("Recipient/MemberOffice") == "HNJ04"
    assert root.findtext("Constituent/StateAbbreviation") == "NJ"
    assert root.findtext("Message/LibraryOfCongressTopics/LibraryOfCongressTopic") == \
        "International Affairs"
    assert root.findtext("Message/Bills/Bill/BillNumber") == "2661"


def test_organization_statement_and_constituent_message_stay_apart(settings: Settings) -> None:
    root = ET.fromstring(document(settings))
    assert root.findtext("Message/OrganizationStatement") == MESSAGE.organization_statement
    assert root.findtext("Message/ConstituentMessage") == "My words <b>&</b> {{ literal }}"
    assert b"&lt;b&gt;&amp;&lt;/b&gt;" in document(settings)


def cwc_settings(settings: Settings, stub: StubServer, key: str = API_KEY) -> Settings:
    return replace(settings, cwc_api_url=f"{stub.url}/v2", cwc_api_key=key, **AGENT)


def test_client_posts_and_records_the_answer(settings: Settings, stub: StubServer) -> None:
    receipt = CwcClient(cwc_settings(settings, stub)).deliver(document(settings))
    assert receipt.status == 200 and "Message received" in receipt.body
    assert stub.state["cwc_received"] == [document(settings)]


def test_rejected_message_is_permanent_with_cwcs_errors(settings: Settings,
                                                        stub: StubServer) -> None:
    broken = replace(PERSON, city="")
    xml = build_cwc_xml(agent_delivery(cwc_settings(settings, stub), "k", "c1"), "HNJ04", broken,
                        MESSAGE, date(2026, 3, 1))
    with pytest.raises(Permanent, match=r"CWC 400: .*Element City failed to validate"):
        CwcClient(cwc_settings(settings, stub)).deliver(xml)


def test_wrong_key_is_permanent(settings: Settings, stub: StubServer) -> None:
    with pytest.raises(Permanent, match="401"):
        CwcClient(cwc_settings(settings, stub, "wrong")).deliver(document(settings))


def test_server_trouble_is_retryable(settings: Settings, stub: StubServer) -> None:
    stub.state["cwc_fail"].append(503)
    with pytest.raises(Retryable, match="503"):
        CwcClient(cwc_settings(settings, stub)).deliver(document(settings))


def test_cwc_is_configured_only_with_url_and_key(settings: Settings) -> None:
    assert not CwcClient.configured(settings)
    assert CwcClient.configured(replace(settings, cwc_api_url="http://x/v2", cwc_api_key="k"))
