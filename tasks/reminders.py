"""The reminders' beat task."""

from __future__ import annotations

from celery import shared_task

from actionwave.reminders.sweep import plan_call_reminders, sweep_due_reminders
from actionwave.reminders.zones import QuietHours


@shared_task(name="actionwave.sweep_reminders", bind=True)
def sweep_reminders(self) -> None:  # type: ignore[no-untyped-def]
    """Plan call reminders for recent writers, then decide every due reminder. Idempotent."""
    services = self.app.services
    settings = services.settings
    quiet = QuietHours(settings.quiet_hours_start, settings.quiet_hours_end)
    with services.session() as session:
        plan_call_reminders(session)
        while sweep_due_reminders(session, cap=settings.reminder_cap_per_week, quiet=quiet).ids:
            pass  # each batch commits; stop when a batch finds nothing due
