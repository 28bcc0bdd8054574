"""An organizer's changes to a wave, by the name the API and the console use for them.

Each returns True if the wave moved, False if its status does not allow the change. Commits.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from actionwave.waves.control import cancel_wave, pause_wave, resume_wave
from actionwave.waves.launch import launch_wave

WAVE_CHANGES: dict[str, Callable[[Session, int], bool]] = {
    "launch": launch_wave, "pause": pause_wave, "resume": resume_wave, "cancel": cancel_wave,
}
