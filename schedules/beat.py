"""What beat runs, and how often. Feature areas add their entries to ``SCHEDULE``."""

from __future__ import annotations

from typing import Any

from actionwave.config import Settings


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    return {}
