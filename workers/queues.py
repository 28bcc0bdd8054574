"""Celery queues: one per delivery channel, beside the default queue for everything else.

``deliver_due`` runs on its channel's queue, so a worker consuming only that queue with
``--concurrency N`` sends at most N batches of the channel at once (docs/deploy.md). A worker
started without ``--queues`` consumes every queue: the embedded default strands nothing.
"""

from __future__ import annotations

from typing import Any

from actionwave.delivery.cwc_sending import CWC_CHANNEL
from actionwave.delivery.mailing import MAIL_CHANNEL
from actionwave.reminders.sweep import REMINDER_CHANNEL
from actionwave.waves.launch import WAVE_CHANNEL

DELIVERY_CHANNELS = (MAIL_CHANNEL, WAVE_CHANNEL, REMINDER_CHANNEL, CWC_CHANNEL)
DEFAULT = "default"  # the name ``--queues`` knows the default queue by
DELIVER_DUE = "actionwave.deliver_due"


def delivery_queue(namespace: str, channel: str) -> str:
    return f"{namespace}.deliver.{channel}"


def queue_names(namespace: str, names: list[str] | None = None) -> list[str]:
    """The Celery queues for ``names`` (channels, or ``default``); every queue for None.
    Raises ValueError naming any unknown name."""
    known = {DEFAULT: namespace} | {c: delivery_queue(namespace, c) for c in DELIVERY_CHANNELS}
    unknown = [name for name in names or [] if name not in known]
    if unknown:
        raise ValueError(f"unknown queue {', '.join(unknown)} (known: {', '.join(known)})")
    return [known[name] for name in names] if names else list(known.values())


def delivery_router(namespace: str) -> Any:
    """A ``task_routes`` router: ``deliver_due(channel)`` to its channel's queue."""

    def route(name: str, args: tuple[Any, ...], kwargs: dict[str, Any], options: dict[str, Any],
              task: Any = None, **_: Any) -> dict[str, str] | None:
        channel = args[0] if args else kwargs.get("channel")
        if name == DELIVER_DUE and channel:
            return {"queue": delivery_queue(namespace, channel)}
        return None

    return route
