"""The supporter's confirmation mail, and the dev outbox it lands in."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from actionwave.campaigns.files import load_campaign
from actionwave.core.channels import OutgoingMail, SendOutcome
from actionwave.core.models import Action, CampaignConsent, Delivery, Supporter, Target
from actionwave.mail.confirmation import COPY_RULE, build_confirmation
from actionwave.mail.outbox_mailer import DevOutboxMailer
from actionwave.mail.unsubscribe import UnsubscribeScope, read_unsubscribe_token
from actionwave.messages.models import TargetAddress
from actionwave.platform.config import Settings
from tests.conftest import CAMPAIGN_FILE


def acted(session: Session, locale: str = "en", **supporter: object) -> Action:
    campaign = load_campaign(session, CAMPAIGN_FILE)
    person = Supporter(email=f"{uuid.uuid4().hex[:8]}@example.com", first_name="Ann",
                       last_name="Lee", zip="08701", city="Lakewood", state="NJ", locale=locale,
                       **supporter)
    session.add(person)
    session.flush()
    action = Action(campaign_id=campaign.id, supporter_id=person.id, locale=locale,
                    idempotency_key=uuid.uuid4().hex, message="{{ my words }}")
    session.add(action)
    session.flush()
    rep = Target(action_id=action.id, bioguide_id="S000522", chamber="house", state="NJ",
                 district=4, name="Christopher H. Smith", cwc_office="HNJ04")
    senator = Target(action_id=action.id, bioguide_id="B001288", chamber="senate", state="NJ",
                     name="Cory Booker",
                     info={"contact_form": "https://www.booker.senate.gov/contact"})
    session.add_all([rep, senator])
    session.flush()
    session.add(Delivery(action_id=action.id, target_id=rep.id, supporter_id=person.id,
                         channel="cwc", idempotency_key=f"cwc:{action.id}:{rep.id}"))
    session.commit()
    return action


def test_confirmation_lists_whom_and_how(db_session: Session, settings: Settings) -> None:
    action = acted(db_session)
    mail = build_confirmation(db_session, settings, action.id)

    assert mail is not None and mail.key == f"confirmation:{action.id}"
    assert mail.subject == "Thank you, Ann: your message on H.R. 2661"
    assert "Rep. Christopher H. Smith: message delivered to the office through" in mail.text
    assert "Sen. Cory Booker: your turn: we have no channel to this office, please send it " \
           "yourself; use the member's contact form: " \
           "https://www.booker.senate.gov/contact" in mail.text
    assert f"{settings.public_url}/u/" in mail.text


def test_confirmation_gives_the_phones_to_call(db_session: Session, settings: Settings) -> None:
    action = acted(db_session)
    senator = db_session.scalar(select(Target).where(Target.action_id == action.id,
                                                     Target.chamber == "senate"))
    senator.info = {**senator.info, "phone": "202-224-3224", "offices": [
        {"city": "Camden", "zip": "08101", "phone": "856-338-8922"},
        {"city": "Newark", "zip": "07102", "phone": "973-639-8700"}]}
    db_session.commit()  # the supporter's ZIP is 08xxx: Camden is nearer than Newark
    mail = build_confirmation(db_session, settings, action.id)
    assert mail is not None
    assert "call the Washington office: 202-224-3224; office in Camden: 856-338-8922" \
        in mail.text


def test_confirmation_has_one_click_unsubscribe_headers_for_its_campaign(
        db_session: Session, settings: Settings) -> None:
    action = acted(db_session)
    mail = build_confirmation(db_session, settings, action.id)
    assert mail is not None
    https, mailto = mail.headers["List-Unsubscribe"].split(", ")
    assert https.startswith(f"<{settings.public_url}/u/") and mailto.startswith("<mailto:")
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    token = https.strip("<>").rpartition("/u/")[2]
    assert read_unsubscribe_token(settings, token) == UnsubscribeScope(action.supporter_id,
                                                                       action.campaign_id)


def test_confirmation_is_transactional_it_needs_no_consent(db_session: Session,
                                                           settings: Settings) -> None:
    action = acted(db_session)  # never ticked "keep me updated"
    assert db_session.scalar(select(CampaignConsent.id)) is None
    assert build_confirmation(db_session, settings, action.id) is not None


def test_confirmation_in_traditional_chinese(db_session: Session, settings: Settings) -> None:
    mail = build_confirmation(db_session, settings, acted(db_session, "zh-Hant").id)
    assert mail is not None and mail.subject.startswith("Ann，謝謝您")
    assert "您聯絡了誰" in mail.text


def test_no_confirmation_for_unsubscribed_or_bounced(db_session: Session,
                                                     settings: Settings) -> None:
    gone = acted(db_session, unsubscribed_at=datetime.now(UTC))
    bounced = acted(db_session, suppressed_reason="bounce")
    assert build_confirmation(db_session, settings, gone.id) is None
    assert build_confirmation(db_session, settings, bounced.id) is None


def test_outbox_writes_one_file_per_key_and_finds_it(tmp_path: Path) -> None:
    mailer = DevOutboxMailer(Settings.from_env({}, instance_path=tmp_path, secret_key="x"))
    mail = OutgoingMail(key="confirmation:1", to="ann@example.com", subject="Merci 香港",
                        text="Body",
                        headers={"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})
    mailer.send([mail])
    mailer.send([mail])

    files = list((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 1
    message = BytesParser(policy=policy.default).parsebytes(files[0].read_bytes())
    assert message["Subject"] == "Merci 香港"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mailer.lookup("confirmation:1") is SendOutcome.ACCEPTED
    assert mailer.lookup("confirmation:2") is SendOutcome.NOT_FOUND


def sent_body(settings: Settings, tmp_path: Path, mail: OutgoingMail) -> str:
    """The mail's text as the embedded default's outbox wrote it (a mail reader's view)."""
    DevOutboxMailer(replace(settings, instance_path=tmp_path)).send([mail])
    (eml,) = (tmp_path / "outbox").glob("*.eml")
    message = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
    return message.get_body(preferencelist=("plain",)).get_content()


def copy_blocks(text: str) -> list[str]:
    parts = text.split(COPY_RULE + "\n")
    return [parts[i].strip() for i in range(1, len(parts), 2)]


@pytest.mark.parametrize("locale,words", [
    ("en", ("select everything between the two lines", "or write from your own mailbox:",
            "your mail app: mailto:office@booker.example")),
    ("zh-Hant", ("請選取兩條線之間的全部文字", "或從您自己的郵箱寄出：",
                 "您的郵件程式: mailto:office@booker.example"))])
def test_your_turn_gives_what_the_thanks_page_gives(db_session: Session, settings: Settings,
                                                   tmp_path: Path, locale: str,
                                                   words: tuple[str, ...]) -> None:
    action = acted(db_session, locale)
    senator = db_session.scalar(select(Target).where(Target.action_id == action.id,
                                                     Target.chamber == "senate"))
    senator.info = {**senator.info, "phone": "202-224-3224"}
    # An address the organizers gave, but no channel of ours planned for it (no mail key):
    # the supporter sends it from their own mailbox.
    db_session.add(TargetAddress(campaign_id=action.campaign_id, bioguide_id="B001288",
                                 email="office@booker.example"))
    db_session.commit()
    mail = build_confirmation(db_session, settings, action.id)
    assert mail is not None
    text = sent_body(settings, tmp_path, mail)

    booker = next(line for line in text.splitlines() if "Cory Booker" in line)
    assert "https://www.booker.senate.gov/contact" in booker and "202-224-3224" in booker
    for said in words:
        assert said in text
    assert "Gmail: https://mail.google.com/mail/?view=cm" in text
    assert "Outlook: https://outlook.office.com/mail/deeplink/compose?" in text
    # One block to copy, for the one office whose turn is the supporter's: the whole letter.
    (block,) = copy_blocks(text)
    assert block.startswith("Dear Sen. Cory Booker") if locale == "en" else "Booker" in block
    assert "{{ my words }}" in block and "Smith" not in block
    status = re.search(r"http\S+/status/\S+", text)
    assert status and status[0].startswith(
        f"{settings.public_url}/c/hketo-certification-act/status/{action.id}?")
    status = status[0]
    assert parse_qs(urlsplit(status).query) == {"lang": [locale]}


def test_all_delivered_keeps_the_plain_message(db_session: Session,
                                               settings: Settings) -> None:
    action = acted(db_session)
    senator = db_session.scalar(select(Target).where(Target.action_id == action.id,
                                                     Target.chamber == "senate"))
    db_session.add(Delivery(action_id=action.id, target_id=senator.id,
                            supporter_id=action.supporter_id, channel="email",
                            idempotency_key=f"email:{action.id}:{senator.id}"))
    db_session.commit()
    mail = build_confirmation(db_session, settings, action.id)
    assert mail is not None and COPY_RULE not in mail.text
    assert "Your message (to paste into a contact form):\n\n{{ my words }}" in mail.text
