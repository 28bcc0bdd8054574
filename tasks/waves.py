"""The waves' beat task: start, fan out and finish waves."""

from __future__ import annotations

import logging

from celery import shared_task

from actionwave.waves.control import finish_waves
from actionwave.waves.launch import fan_out_wave, start_due_waves, waves_to_fan_out

log = logging.getLogger(__name__)


@shared_task(name="actionwave.advance_waves", bind=True)
def advance_waves(self) -> None:  # type: ignore[no-untyped-def]
    """Start due time-triggered waves, fan out running ones, finish sent ones. Idempotent:
    two overlapping runs insert each delivery once (unique idempotency key)."""
    services = self.app.services
    with services.session() as session:
        for wave_id in start_due_waves(session):
            log.info("wave %s started: its time came", wave_id)
        for wave_id in waves_to_fan_out(session):
            fanned = fan_out_wave(session, wave_id, chunk_size=services.settings.wave_chunk_size)
            if fanned.finished:
                log.info("wave %s fanned out (%d messages added)", wave_id, fanned.inserted)
        for wave_id in finish_waves(session):
            log.info("wave %s done: nothing left to send", wave_id)
