"""A worker bootstep that runs the outbox relay in a background thread of every worker.

It publishes from the database to the broker, so it must not depend on the broker to be woken:
it polls. When the broker is down it backs off and keeps the messages in the database.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from celery import Celery, bootsteps

from actionwave.intake.outbox import (
    Publish,
    newest_message_id,
    relay_outbox,
    requeue_stalled_actions,
)
from actionwave.intake.surge import SurgeHold
from actionwave.system.services import Services

log = logging.getLogger(__name__)

TOPIC_TASKS = {"action.accepted": "actionwave.resolve_actions"}
MAX_BACKOFF_SECONDS = 5.0
STALLED_AFTER = timedelta(minutes=2)


def broker_publisher(app: Celery):  # type: ignore[no-untyped-def]
    """``publish(topic, refs)`` that sends one task per topic batch and fails fast when down."""

    def publish(topic: str, refs: Sequence[str]) -> None:
        with app.producer_or_acquire() as producer:
            app.send_task(
                TOPIC_TASKS[topic], args=(list(refs),), producer=producer,
                retry=True, retry_policy={"max_retries": 1, "interval_start": 0.2},
            )

    return publish


class OutboxRelay(bootsteps.StartStopStep):
    requires = ("celery.worker.components:Pool",)

    def __init__(self, worker, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(worker, **kwargs)
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self, worker) -> None:  # type: ignore[no-untyped-def]
        self.thread = threading.Thread(
            target=run_relay, args=(worker.app, self.stopping), name="outbox-relay", daemon=True
        )
        self.thread.start()

    def stop(self, worker) -> None:  # type: ignore[no-untyped-def]
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout=10)


def run_relay(app: Celery, stopping: threading.Event) -> None:
    relay_until_stopped(app.services, broker_publisher(app), stopping)


def relay_until_stopped(services: Services, publish: Publish, stopping: threading.Event) -> None:
    """Relay the outbox until ``stopping`` is set: every poll publishes what is due (during an
    intake surge, only actions old enough: ``actionwave.intake.surge``) and sweeps stalled actions
    now
    and then; failures back off and keep every message in the database."""
    settings = services.settings
    surge = SurgeHold(settings.surge_submissions_per_s, settings.surge_hold_seconds)
    backoff = settings.outbox_poll_seconds
    # The first sweep at once: a worker started after Redis restarted empty queues again what
    # was lost with it, without waiting for half a STALLED_AFTER.
    next_sweep = time.monotonic()
    failing_since: float | None = None  # wall clock of the first failure in a row
    while not stopping.is_set():
        try:
            if time.monotonic() >= next_sweep:
                with services.session() as session:
                    surge.rate.discount(requeue_stalled_actions(session, STALLED_AFTER))
                next_sweep = time.monotonic() + STALLED_AFTER.total_seconds() / 2
            created_before = None
            if surge.enabled:
                with services.session() as session:
                    newest = newest_message_id(session)
                created_before = surge.created_before(newest, time.monotonic(), datetime.now(UTC))
            relayed = relay_outbox(services.session_factory, publish,
                                   limit=settings.outbox_batch_size, created_before=created_before)
            if failing_since is not None:
                # Back after a failure: a restarted Redis has dropped the tasks it held, so queue
                # again what was waiting before the outage, now rather than after STALLED_AFTER.
                with services.session() as session:
                    surge.rate.discount(requeue_stalled_actions(
                        session, timedelta(seconds=time.time() - failing_since)))
                failing_since = None
        except Exception as exc:  # broker or database down: keep the rows, try again later
            failing_since = failing_since or time.time()
            log.warning("outbox relay failed, retrying in %.1fs: %s", backoff, exc)
            stopping.wait(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            continue
        backoff = settings.outbox_poll_seconds
        if relayed < settings.outbox_batch_size:
            stopping.wait(settings.outbox_poll_seconds)
