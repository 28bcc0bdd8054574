"""Delivery tasks: workers drain due deliveries; beat sweeps in-doubt sends and kicks workers.

Both are idempotent (rows are the truth; claims and outcomes are conditional updates), so a task
redelivered after a crash does no harm. Long waits (backoff, rate limits) live in the rows'
``next_attempt_at``, never in a countdown.
"""

from __future__ import annotations

import math
import os
import socket
import threading

from celery import shared_task
from sqlalchemy.exc import OperationalError

from actionwave.config import Settings
from actionwave.cwc.client import CwcClient
from actionwave.delivery import engine
from actionwave.delivery.cwc_sending import CWC_CHANNEL, CwcSender
from actionwave.delivery.mailing import MAIL_CHANNEL, MailSender
from actionwave.delivery.policy import DeliveryPolicy
from actionwave.delivery.recovery import due_channels, expire_leases
from actionwave.reminders.mail import reminder_choices
from actionwave.reminders.sweep import REMINDER_CHANNEL
from actionwave.services import Services
from actionwave.waves.launch import WAVE_CHANNEL
from actionwave.waves.mail import CampaignMailSender, wave_choices


def _senders(services: Services) -> dict[str, engine.Sender]:
    rendered = (services.session_factory, services.settings, services.mailer)
    return {MAIL_CHANNEL: MailSender(services.mailer),
            WAVE_CHANNEL: CampaignMailSender(wave_choices, *rendered),
            REMINDER_CHANNEL: CampaignMailSender(reminder_choices, *rendered),
            **_office_senders(services.settings)}


def _office_senders(settings: Settings) -> dict[str, engine.Sender]:
    """CWC for House offices, when an organizer configured it."""
    return {CWC_CHANNEL: CwcSender(settings)} if CwcClient.configured(settings) else {}


def _worker_id() -> str:
    return f"{socket.gethostname()[:24]}:{os.getpid()}:{threading.get_ident() % 10**8}"


@shared_task(name="actionwave.deliver_due", bind=True, max_retries=None)
def deliver_due(self, channel: str) -> int:  # type: ignore[no-untyped-def]
    """Send one batch of due deliveries of ``channel``; queue another run if more are due."""
    services: Services = self.app.services
    sender = _senders(services).get(channel)
    if sender is None:
        return 0
    try:
        result = engine.deliver_due(
            services.session_factory, channel, sender, services.rate_limiter,
            DeliveryPolicy.from_settings(services.settings, sender.provider), _worker_id(),
        )
    except OperationalError as exc:  # database unreachable; claimed rows come back via leases
        raise self.retry(exc=exc, countdown=min(2 ** self.request.retries, 30)) from exc
    if result.more_due:
        self.apply_async((channel,))
    return result.sent


@shared_task(name="actionwave.sweep_deliveries", bind=True, max_retries=0)
def sweep_deliveries(self) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Settle in-doubt deliveries with their providers, then start workers for due ones."""
    services: Services = self.app.services
    senders = _senders(services)
    policy = DeliveryPolicy.from_settings(services.settings)
    with services.session() as session:
        expire_leases(session, senders, policy)
        due = due_channels(session)
    for channel, count in due.items():
        if channel in senders:
            runs = min(services.settings.worker_concurrency, math.ceil(count / policy.batch_size))
            for _ in range(runs):
                deliver_due.delay(channel)
    return due
