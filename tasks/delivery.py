"""Delivery tasks: workers drain due deliveries; beat sweeps in-doubt sends and kicks workers.

Both are idempotent (rows are the truth; claims and outcomes are conditional updates), so a task
redelivered after a crash does no harm. Long waits (backoff, rate limits) live in the rows'
``next_attempt_at``, never in a countdown.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading

from celery import shared_task
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError
from sqlalchemy.exc import OperationalError

from actionwave.cwc.client import CwcClient
from actionwave.delivery import engine
from actionwave.delivery.cwc_sending import CWC_CHANNEL, CwcSender
from actionwave.delivery.mailing import MAIL_CHANNEL, MailSender
from actionwave.delivery.policy import DeliveryPolicy
from actionwave.delivery.recovery import due_channels, expire_leases
from actionwave.platform.config import Settings
from actionwave.reminders.mail import reminder_choices
from actionwave.reminders.sweep import REMINDER_CHANNEL
from actionwave.system.metrics import queue_depth
from actionwave.system.services import Services
from actionwave.waves.launch import WAVE_CHANNEL
from actionwave.waves.mail import CampaignMailSender, wave_choices

log = logging.getLogger(__name__)

# Runs of one channel allowed to wait on its queue: more than every worker consuming it runs at
# once, so the sweep still spreads a backlog over all of them.
MAX_WAITING_RUNS = 64


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


def start_draining(services: Services, channel: str, wanted: int = 1) -> int:
    """Queue ``wanted`` runs of ``channel`` on its own queue (``workers.queues``), where the
    workers consuming it run at most their concurrency at once, but no more than make
    ``MAX_WAITING_RUNS`` wait there; returns how many were queued. A run waiting finds whatever
    is due when it starts, so one more would add nothing: on launch day every resolved batch
    asks for a run, and thousands would wait only to find their work done. A broker outage
    queues none: the sweep asks again later."""
    started = 0
    try:
        waiting = _waiting_runs(services.settings, channel)
        for _ in range(min(wanted, MAX_WAITING_RUNS - waiting)):
            deliver_due.delay(channel)
            started += 1
    except (BrokerError, RedisError) as exc:
        log.warning("could not start draining %s now (%s); the sweep will", channel, exc)
    return started


def _waiting_runs(settings: Settings, channel: str) -> int:
    """Runs of ``channel`` waiting on its queue, the one the app's router sends them to (0 on a
    broker that can't tell: SQLite's)."""
    queue = deliver_due.app.amqp.router.route({}, deliver_due.name, args=(channel,))["queue"]
    return queue_depth(settings, queue=queue.name) or 0


@shared_task(name="actionwave.deliver_due", bind=True, max_retries=None)
def deliver_due(self, channel: str, _drainer: str | None = None) -> int:  # type: ignore[no-untyped-def]
    """Send one batch of due deliveries of ``channel``; while more are due, run again (on the
    channel's queue, behind the runs already waiting there). ``_drainer``: the slot id that runs
    queued before the per-channel queues carried; ignored."""
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
    if result.more_due and _waiting_runs(services.settings, channel) < MAX_WAITING_RUNS:
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
            start_draining(services, channel, math.ceil(count / policy.batch_size))
    return due
