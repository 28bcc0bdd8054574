"""The development mailer: each mail becomes an ``.eml`` file in ``instance/outbox``.

File names are derived from the idempotency key, so sending a key twice rewrites one file and
``lookup`` is a file check: the same at-most-once ledger the SendGrid path relies on.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Sequence
from email import policy
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path

from actionwave.core.channels import OutgoingMail, SendOutcome
from actionwave.platform.config import Settings

KEY_HEADER = "X-Actionwave-Key"
URL_LIST_HEADERS = frozenset({"list-unsubscribe", "list-unsubscribe-post"})


class _FilePolicy(policy.EmailPolicy):
    """``policy.default``, except that List-Unsubscribe stays plain ASCII.

    The default folds a header whose tokens (URLs) are longer than 78 characters into RFC 2047
    encoded-words, which RFC 2369 readers do not decode: the header stops working. Here URL-list
    headers are folded between their ``<…>`` parts, never encoded (lines stay under 998).
    """

    def fold(self, name: str, value: str) -> str:
        if name.lower() in URL_LIST_HEADERS:
            return self._fold_urls(name, value)
        return super().fold(name, value)

    def fold_binary(self, name: str, value: str) -> bytes:
        if name.lower() in URL_LIST_HEADERS:
            return self._fold_urls(name, value).encode("ascii")
        return super().fold_binary(name, value)

    def _fold_urls(self, name: str, value: str) -> str:
        parts = re.findall(r"<[^>]*>", str(value)) or [str(value).strip()]
        return f"{name}: " + f",{self.linesep} ".join(parts) + self.linesep


FILE_POLICY = _FilePolicy()


class DevOutboxMailer:
    """``Mailer`` writing RFC 5322 files; never raises ``Retryable`` except on a full disk."""

    def __init__(self, settings: Settings) -> None:
        self.directory = settings.outbox_dir
        self.sender = settings.mail_from

    def path_for(self, key: str) -> Path:
        return self.directory / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.eml"

    def send(self, batch: Sequence[OutgoingMail]) -> str | None:
        """Write every mail of ``batch`` atomically; returns a local message id. Idempotent."""
        self.directory.mkdir(parents=True, exist_ok=True)
        message_id = make_msgid(domain="outbox.actionwave.invalid")
        for mail in batch:
            _write_atomically(self.path_for(mail.key), to_message(mail, self.sender, message_id))
        return message_id.strip("<>")

    def lookup(self, key: str) -> SendOutcome:
        return SendOutcome.ACCEPTED if self.path_for(key).exists() else SendOutcome.NOT_FOUND

    def read(self) -> list[EmailMessage]:
        """Every mail in the outbox, oldest first (for tests and the dev console)."""
        from email.parser import BytesParser

        parser = BytesParser(policy=policy.default)
        files = sorted(self.directory.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
        return [parser.parsebytes(path.read_bytes()) for path in files]  # type: ignore[misc]


def to_message(mail: OutgoingMail, sender: str, message_id: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = formataddr((mail.to_name or "", mail.to))
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id
    message[KEY_HEADER] = mail.key
    if mail.reply_to:
        message["Reply-To"] = mail.reply_to
    for name, value in mail.headers.items():
        message[name] = value
    message.set_content(mail.text)
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html")
    return message.as_bytes(policy=FILE_POLICY)


def _write_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
