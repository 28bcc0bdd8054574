"""The target planner: each legislator's channel and letter; the confirmation lists them."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from actionwave.core.models import Action, Campaign, Delivery, Target
from actionwave.delivery.claims import Claimed
from actionwave.delivery.cwc_sending import cwc_document
from actionwave.delivery.planning import plan_deliveries
from actionwave.delivery.targets import TargetPlanner
from actionwave.intake.submissions import parse_action_form, submit_action
from actionwave.messages.models import TargetAddress
from actionwave.platform.config import Settings
from tests.support import resolve_action

OWN_WORDS = "My family is in Hong Kong. {{ not a template }}"
CWC = {"cwc_api_url": "http://127.0.0.1:9/v2", "cwc_api_key": "k"}


def act(session: Session, campaign_slug: str, **fields: str) -> uuid.UUID:
    form = parse_action_form({"first_name": "Mei", "last_name": "Chan", "email":
                              f"mei-{uuid.uuid4().hex[:6]}@example.org", "zip": "82001",
                              "message": OWN_WORDS, "consent": "true", **fields})
    return submit_action(session, campaign_slug, form).action_id


def plan(session: Session, settings: Settings, action_id: uuid.UUID) -> dict[str, Delivery]:
    targets = resolve_action(session, action_id)
    plan_deliveries(session, settings, action_id, targets, TargetPlanner(settings))
    rows = session.scalars(select(Delivery).where(Delivery.action_id == action_id)).all()
    return {row.idempotency_key.rsplit(":", 1)[0]: row for row in rows}


def give_address(session: Session, bioguide_id: str, email: str) -> None:
    session.add(TargetAddress(bioguide_id=bioguide_id, email=email, label="staff"))
    session.flush()


def test_organizer_address_gets_the_letter_with_the_supporters_words_apart(
    db_session: Session, campaign_slug: str, settings: Settings
) -> None:
    give_address(db_session, "B001261", "staff@barrasso.example.org")
    rows = plan(db_session, settings, act(db_session, campaign_slug, city="Cheyenne"))
    letter = rows["email:B001261"]
    assert (letter.channel, letter.recipient) == ("email", "staff@barrasso.example.org")
    assert letter.payload["office"] == "SWY01"
    mail = letter.payload["mail"]
    assert mail["to_name"] == "Sen. John Barrasso" and mail["category"] == "letter"
    assert mail["subject"] == "H.R. 2661: please act on the HKETO Certification Act"
    statement, own = mail["text"].split(OWN_WORDS)
    assert statement.startswith("Dear Sen. John Barrasso,") and "in Cheyenne" in statement
    assert "Mei Chan" in own and "Cheyenne, WY 82001" in own
    assert set(rows) == {"email:B001261", "confirmation"}  # the others have no address


def test_confirmation_lists_whom_they_contacted_and_how(
    db_session: Session, campaign_slug: str, settings: Settings
) -> None:
    give_address(db_session, "B001261", "staff@barrasso.example.org")
    rows = plan(db_session, settings, act(db_session, campaign_slug))
    text = rows["confirmation"].payload["mail"]["text"]
    assert "- Sen. John Barrasso: email to the office" in text
    your_turn = "your turn: we have no channel to this office, please send it yourself"
    assert (f"- Sen. Cynthia M. Lummis: {your_turn}; use the member's contact form: "
            "https://www.lummis.senate.gov/contact/contact-form/") in text
    assert (f"- Rep. Harriet M. Hageman: {your_turn}; no online channel is on record: please "
            "call the office; call the Washington office: 202-225-2311") in text


def test_house_office_goes_through_cwc_with_the_parts_of_the_xml(
    db_session: Session, campaign_slug: str, settings: Settings
) -> None:
    cwc = replace(settings, **CWC)
    give_address(db_session, "H001096", "staff@hageman.example.org")  # CWC still wins
    rows = plan(db_session, cwc, act(db_session, campaign_slug, address="2120 Capitol Ave",
                                     city="Cheyenne", state="WY", prefix="Dr."))
    row = rows["cwc:H001096"]
    assert (row.channel, row.recipient, row.payload["office"]) == ("cwc", "HWY00", "HWY00")
    claimed = Claimed(row.id, row.idempotency_key, row.recipient, row.payload, 1)
    root = ET.fromstring(cwc_document(cwc, claimed))
    assert root.findtext("Recipient/MemberOffice") == "HWY00"
    assert root.findtext("Constituent/Address1") == "2120 Capitol Ave"
    assert root.findtext("Constituent/Prefix") == "Dr."
    assert root.findtext("Message/ConstituentMessage") == OWN_WORDS
    assert root.findtext("Message/OrganizationStatement").startswith("Dear Rep. Harriet")
    assert root.findtext("Message/Bills/Bill/BillNumber") == "2661"
    assert "- Rep. Harriet M. Hageman: message delivered to the office through the House's " \
        "CWC system" in rows["confirmation"].payload["mail"]["text"]
    assert "cwc:B001261" not in rows  # senators are not on the House's CWC


def test_without_a_street_address_a_house_office_is_not_sent_through_cwc(
    db_session: Session, campaign_slug: str, settings: Settings
) -> None:
    give_address(db_session, "H001096", "staff@hageman.example.org")
    rows = plan(db_session, replace(settings, **CWC), act(db_session, campaign_slug))
    assert "cwc:H001096" not in rows
    assert rows["email:H001096"].recipient == "staff@hageman.example.org"


def test_a_real_two_letter_town_is_not_padded_the_office_gets_its_next_channel_and_why(
    db_session: Session, campaign_slug: str, settings: Settings
) -> None:
    action_id = act(db_session, campaign_slug, address="12 Main St", city="Ai", prefix="Ms.")
    rows = plan(db_session, replace(settings, **CWC), action_id)
    assert not any(key.startswith("cwc:") for key in rows)  # nothing invented to reach 3 letters
    [rep] = [t for t in db_session.scalars(select(Target).where(Target.action_id == action_id))
             if t.chamber == "house"]
    assert rep.info["cwc_refused"] == {
        "fields": ["city"], "reason": "Constituent/City: at least 3 characters (has 2)"}
    text = rows["confirmation"].payload["mail"]["text"]
    assert ("- Rep. Harriet M. Hageman: not sent through the House's CWC system, which needs a "
            "city or town name of at least 3 letters; your turn: we have no channel to this "
            "office, please send it yourself; no online channel is on record: please call the "
            "office") in text


def test_split_zip_plans_the_senators_and_asks_for_the_address(
    db_session: Session, campaign_slug: str, settings: Settings
) -> None:
    give_address(db_session, "W000817", "staff@warren.example.org")
    action_id = act(db_session, campaign_slug, zip="02139")
    rows = plan(db_session, settings, action_id)
    assert db_session.get(Action, action_id).status == "needs_address"
    assert rows["email:W000817"].recipient == "staff@warren.example.org"
    text = rows["confirmation"].payload["mail"]["text"]
    assert "- Sen. Elizabeth Warren: email to the office" in text
    assert "spans more than one district" in text and "Rep." not in text


def test_planning_a_batch_again_adds_nothing(
    db_session: Session, campaign_slug: str, settings: Settings
) -> None:
    give_address(db_session, "B001261", "staff@barrasso.example.org")
    action_id = act(db_session, campaign_slug)
    planner = TargetPlanner(settings)
    targets = resolve_action(db_session, action_id)
    assert plan_deliveries(db_session, settings, action_id, targets, planner) == 2
    assert plan_deliveries(db_session, settings, action_id, targets, planner) == 0


def test_a_campaigns_own_address_wins_over_a_general_one(
    db_session: Session, campaign_slug: str, settings: Settings
) -> None:
    campaign_id = db_session.scalar(select(Campaign.id).where(Campaign.slug == campaign_slug))
    give_address(db_session, "B001261", "general@barrasso.example.org")
    db_session.add(TargetAddress(campaign_id=campaign_id, bioguide_id="B001261",
                                 email="hketo@barrasso.example.org"))
    db_session.flush()
    rows = plan(db_session, settings, act(db_session, campaign_slug))
    assert rows["email:B001261"].recipient == "hketo@barrasso.example.org"
