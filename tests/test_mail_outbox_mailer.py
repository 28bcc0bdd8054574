"""The dev outbox mailer: ``.eml`` files that real mail readers parse as sent."""

from __future__ import annotations

from dataclasses import replace
from email import policy
from email.parser import BytesParser
from pathlib import Path

from actionwave.core.channels import OutgoingMail, SendOutcome
from actionwave.mail.outbox_mailer import DevOutboxMailer
from actionwave.mail.unsubscribe import list_unsubscribe_headers, unsubscribe_url
from actionwave.platform.config import Settings


def outbox(settings: Settings, tmp_path: Path) -> DevOutboxMailer:
    return DevOutboxMailer(replace(settings, instance_path=tmp_path))


def test_list_unsubscribe_keeps_both_urls_unencoded(settings: Settings, tmp_path: Path) -> None:
    mailer = outbox(settings, tmp_path)
    public = replace(settings, public_url="https://act.example.org")
    headers = list_unsubscribe_headers(public, 123456789, 7)
    mail = OutgoingMail(key="confirmation:1", to="mei@example.org", to_name="陳美",
                        subject="陳美，謝謝您：關於 H.R. 2661 的訊息", text="謝謝\n",
                        headers=headers)
    mailer.send([mail])
    raw = mailer.path_for(mail.key).read_bytes()
    header = raw.split(b"\nList-Unsubscribe:", 1)[1].split(b"\nList-Unsubscribe-Post:", 1)[0]
    assert b"=?" not in header  # no RFC 2047 encoded-words: readers would not decode them
    assert header.isascii()
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    https_url = unsubscribe_url(public, 123456789, 7)
    urls = [part.strip() for part in str(parsed["List-Unsubscribe"]).split(",")]
    assert urls[0] == f"<{https_url}>"
    assert urls[1].startswith("<mailto:unsubscribe@example.org?subject=unsubscribe-")
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert str(parsed["Subject"]) == mail.subject  # non-ASCII headers are still encoded
    assert parsed.get_content() == "謝謝\n"


def test_sending_a_key_twice_keeps_one_file_and_lookup_finds_it(
    settings: Settings, tmp_path: Path
) -> None:
    mailer = outbox(settings, tmp_path)
    mail = OutgoingMail(key="letter:1", to="staff@example.org", subject="H.R. 2661", text="Hi\n")
    assert mailer.lookup(mail.key) is SendOutcome.NOT_FOUND
    mailer.send([mail])
    mailer.send([mail])
    assert len(list(tmp_path.glob("outbox/*.eml"))) == 1
    assert mailer.lookup(mail.key) is SendOutcome.ACCEPTED
