"""Outgoing mail: the SendGrid mailer, the dev outbox, and the mailer chosen by settings.

May import ``messages``, ``legislators``, ``cwc``, ``social``, ``accounts``, the core and the
platform.
"""

from __future__ import annotations

from actionwave.core.channels import Mailer
from actionwave.platform.config import Settings


def make_mailer(settings: Settings) -> Mailer:
    """SendGrid when ``SENDGRID_API_KEY`` is set, else the dev outbox under ``instance/outbox``."""
    if settings.sendgrid_api_key:
        from actionwave.mail.sendgrid_mailer import SendGridMailer

        return SendGridMailer(settings)
    from actionwave.mail.outbox_mailer import DevOutboxMailer

    return DevOutboxMailer(settings)
