"""The contract between the delivery engine and the outside services it sends through.

Providers raise ``Retryable`` (try again, after ``after`` seconds if the provider said so) or
``Permanent`` (never retry; ``reason`` is shown to organizers); a sender that refuses to send a
message it can tell the provider would refuse raises ``Unsendable``. Anything else is a bug.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol


class ProviderError(Exception):
    """A provider refused or failed a request.

    ``accepted`` lists idempotency keys of mails in the same ``send`` call that the provider had
    already accepted before this failure (a batch split over several requests): mark those sent.
    ``in_doubt`` is True when the request may have reached the provider (a timeout or a dropped
    connection): look the keys up with ``Mailer.lookup`` before sending them again.
    """

    accepted: tuple[str, ...] = ()
    in_doubt: bool = False


class Retryable(ProviderError):
    def __init__(self, reason: str, after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.after = after


class RateLimited(Retryable):
    """The provider asked us to slow down (429). Not a failed try: the delivery is postponed to
    ``after`` without using up one of its attempts."""


class Permanent(ProviderError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Unsendable(ProviderError):
    """Not sent at all: the message breaks the provider's published format (``reason`` says
    where). Nothing reached the provider; the delivery goes to ``dead`` with the reason, where an
    organizer can retry it once the cause is fixed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class OutgoingMail:
    """One email to one recipient. ``key`` is our idempotency key, sent in ``custom_args``."""

    key: str
    to: str
    subject: str
    text: str
    to_name: str | None = None
    html: str | None = None
    reply_to: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    category: str = "action"


class SendOutcome(Enum):
    ACCEPTED = "accepted"
    NOT_FOUND = "not_found"
    UNKNOWN = "unknown"


class Mailer(Protocol):
    def send(self, batch: Sequence[OutgoingMail]) -> str | None:
        """Send the batch (one provider request where possible). Returns the provider's message id.

        Raises ``Retryable`` or ``Permanent``; on return every mail in the batch was accepted.
        """
        ...

    def lookup(self, key: str) -> SendOutcome:
        """Did the provider accept a mail carrying idempotency ``key``? Used for in-doubt sends."""
        ...
