"""Build the Celery app from Actionwave's settings (no app object is created at import time)."""

from __future__ import annotations

from celery import Celery
from celery.signals import setup_logging, task_postrun, task_prerun, worker_init

from actionwave.platform import collector
from actionwave.platform.config import Settings
from actionwave.platform.logs import configure_logging
from actionwave.system.services import Services
from schedules.beat import beat_schedule
from workers.queues import delivery_router
from workers.time_limits import ThreadTimeLimits

TASK_MODULES = ["tasks.actions", "tasks.delivery", "tasks.bill", "tasks.waves", "tasks.reminders"]


def create_celery(settings: Settings, services: Services | None = None) -> Celery:
    """A Celery app whose tasks find ``app.services`` (database, providers) ready to use."""
    settings.require_redis("workers and beat")
    configure_logging(settings)  # JSON lines with task ids; secrets redacted
    # A receiver on setup_logging tells Celery to leave logging alone (ours is configured above).
    setup_logging.connect(_keep_our_logging, weak=False, dispatch_uid="actionwave-logging")
    # Once the task modules are imported: freeze them and collect less often.
    worker_init.connect(_settle_collector, weak=False, dispatch_uid="actionwave-collector")
    app = Celery("actionwave", broker=settings.broker_url, set_as_current=True)
    transport_options: dict[str, object] = {}
    if settings.broker_url.startswith("redis"):
        # Unacked tasks come back after an hour; nothing waits in the broker that long.
        transport_options.update(
            visibility_timeout=3600, socket_timeout=5, socket_connect_timeout=2
        )
    app.conf.update(
        include=TASK_MODULES,
        task_default_queue=settings.namespace,
        task_routes=(delivery_router(settings.namespace),),  # deliver_due: a queue per channel
        task_acks_late=True,  # every task is idempotent: redeliver rather than lose
        # Below DELIVERY_LEASE_SECONDS by default: no task outlives the leases it took.
        task_soft_time_limit=settings.task_soft_time_limit_seconds,
        task_time_limit=settings.task_time_limit_seconds,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        result_expires=3600,
        worker_prefetch_multiplier=1,
        worker_pool=settings.worker_pool,
        worker_concurrency=settings.worker_concurrency,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        broker_transport_options=transport_options,
        task_serializer="json",
        accept_content=["json"],
        timezone="UTC",
        beat_schedule=beat_schedule(settings),
        beat_scheduler="schedules.lock:SingleBeatScheduler",  # one beat fires across machines
    )
    if settings.worker_pool == "threads":  # Celery's thread pool ignores the limits above
        _enforce_on_threads(ThreadTimeLimits(settings.task_soft_time_limit_seconds,
                                             settings.task_time_limit_seconds))
    app.services = services or Services(settings)  # type: ignore[attr-defined]
    from workers.relay import OutboxRelay  # the step needs the app's task routing

    app.steps["worker"].add(OutboxRelay)
    return app


def _enforce_on_threads(limits: ThreadTimeLimits) -> None:
    task_prerun.connect(lambda task=None, **_: limits.task_started(getattr(task, "name", "?")),
                        weak=False, dispatch_uid="actionwave-limits-start")
    task_postrun.connect(lambda **_: limits.task_finished(), weak=False,
                         dispatch_uid="actionwave-limits-end")
    worker_init.connect(lambda **_: limits.start(), weak=False,
                        dispatch_uid="actionwave-limits-watchdog")


def _settle_collector(**_kwargs: object) -> None:
    """Celery's ``worker_init`` receiver (``actionwave.platform.collector``)."""
    collector.settle()


def _keep_our_logging(**_kwargs: object) -> None:
    """Celery's ``setup_logging`` receiver: logging is already configured."""
