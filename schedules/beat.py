"""What beat runs, and how often. Feature areas add their entries to ``SCHEDULE``."""

from __future__ import annotations

from typing import Any

from actionwave.platform.config import Settings


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    return {
        # Settle in-doubt sends (expired leases) and kick workers for due deliveries and retries.
        "sweep-deliveries": {"task": "actionwave.sweep_deliveries",
                             "schedule": settings.delivery_sweep_seconds},
        # Poll each active campaign's bill on congress.gov; announce transitions, start waves.
        "poll-bills": {"task": "actionwave.poll_bills", "schedule": settings.bill_poll_seconds,
                       "options": {"expires": settings.bill_poll_seconds}},
        # Start time-triggered waves, fan out running ones, mark finished ones done.
        "advance-waves": {"task": "actionwave.advance_waves", "schedule": 10.0,
                          "options": {"expires": 10}},
        # Plan follow-ups and send the due ones (rows with due_at, never broker countdowns).
        "sweep-reminders": {"task": "actionwave.sweep_reminders",
                            "schedule": settings.reminder_sweep_seconds,
                            "options": {"expires": settings.reminder_sweep_seconds}},
    }
