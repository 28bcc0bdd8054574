"""Structured logs: one JSON object per line, carrying request, action and task ids.

Web and workers call ``configure_logging(settings)`` once at start. Every record that reaches the
handler passes ``RedactSecrets`` first, so a secret value (any ``Settings`` field declared with
``repr=False``) never reaches the log stream, whoever logged it.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import fields
from datetime import UTC, datetime
from typing import IO, Any

from actionwave.config import Settings

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
action_id: ContextVar[str | None] = ContextVar("action_id", default=None)

REDACTED = "[redacted]"
# Shorter values are too likely to occur by chance in ordinary text to be worth replacing.
MIN_SECRET_LENGTH = 6


@contextmanager
def bound_action(value: str) -> Iterator[None]:
    """Tag every record logged inside the block with ``action_id=value``."""
    token = action_id.set(value)
    try:
        yield
    finally:
        action_id.reset(token)


def secret_values(settings: Settings) -> list[str]:
    """The values of every secret setting (fields with ``repr=False``) worth redacting."""
    values = (getattr(settings, f.name) for f in fields(settings) if not f.repr)
    return [v for v in values if isinstance(v, str) and len(v) >= MIN_SECRET_LENGTH]


class RedactSecrets(logging.Filter):
    """Replaces known secret values in a record's message and traceback text. Never drops one."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first, so a secret containing another is replaced whole.
        self.secrets = sorted(set(secrets), key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, the record's ``fields`` (an
    ``extra`` dict) and the ids known right now."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),  # structured details a caller passes in ``extra``
        }
        for key, var in (("request_id", request_id), ("action_id", action_id)):
            value = getattr(record, key, None) or var.get()
            if value:
                entry[key] = value
        entry.update(_celery_task())
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


def _celery_task() -> dict[str, str]:
    """The id and name of the Celery task running in this thread, if any."""
    from celery import current_task

    task = current_task._get_current_object()
    if task is None or task.request.id is None:
        return {}
    return {"task_id": task.request.id, "task_name": task.name}


class _ActionwaveHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler we installed, so configuring twice replaces rather than duplicates."""


def configure_logging(settings: Settings, stream: IO[str] | None = None) -> logging.Handler:
    """Send the root logger's records to ``stream`` (stderr) as redacted JSON lines. Idempotent."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _ActionwaveHandler)]:
        root.removeHandler(old)
    handler = _ActionwaveHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactSecrets(secret_values(settings)))
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    return handler
