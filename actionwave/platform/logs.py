"""Logs: one line per record, carrying request, action and task ids.

``LOG_FORMAT=json`` (the default, for production) writes one JSON object per line; ``text``
(what ``actionwave up`` uses) writes ``time level logger: message`` for people. Web and workers
call ``configure_logging(settings)`` once at start. Every record that reaches the handler passes
``RedactSecrets`` first, so a secret value (any ``Settings`` field declared with ``repr=False``)
never reaches the log stream, whoever logged it.

What is logged at INFO: one line per request (gunicorn's access line) and one per change of
state (a worker ready, a wave launched, a bill stage reached...). Celery's own loggers say
something for every task received and done and every beat send, so they are held at
``CELERY_LOG_LEVEL`` (WARNING), except the lines that say a worker connected and is ready.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import fields
from datetime import UTC, datetime
from typing import IO, Any

from actionwave.platform.config import Settings

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
action_id: ContextVar[str | None] = ContextVar("action_id", default=None)

REDACTED = "[redacted]"
# Paths that carry a secret (the signed unsubscribe token): logged as their route, never as is.
SECRET_PATHS = ((re.compile(r"^/u/[^/?]+"), "/u/<token>"),
                (re.compile(r"^/console/login/link/[^/?]+"), "/console/login/link/<token>"))
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


def loggable_path(path: str) -> str:
    """``path`` as it may be logged: a path carrying a secret becomes its route."""
    for pattern, route in SECRET_PATHS:
        if pattern.match(path):
            return pattern.sub(route, path, count=1)
    return path


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


class TextFormatter(logging.Formatter):
    """``14:06:12 INFO    web.telemetry: message  request_id=… action_id=…`` (local time)."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        ids = {key: getattr(record, key, None) or var.get()
               for key, var in (("request_id", request_id), ("action_id", action_id))}
        ids.update(_celery_task())
        tail = "".join(f"  {key}={value}" for key, value in ids.items() if value)
        line = f"{when} {record.levelname:<7} {record.name}: {record.getMessage()}{tail}"
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        return f"{line}\n{record.exc_text}" if record.exc_text else line


# Celery's per-task and per-send chatter; held at CELERY_LOG_LEVEL.
CELERY_LOGGERS = ("celery", "kombu", "amqp")
# ...but a worker connecting and becoming ready are changes of state, logged at LOG_LEVEL.
CELERY_STATE_LOGGERS = ("celery.apps.worker", "celery.worker.consumer.connection")


class _ActionwaveHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler we installed, so configuring twice replaces rather than duplicates."""


def configure_logging(settings: Settings, stream: IO[str] | None = None) -> logging.Handler:
    """Send the root logger's records to ``stream`` (stderr) as redacted lines in
    ``LOG_FORMAT``, at ``LOG_LEVEL`` (Celery's chatter at ``CELERY_LOG_LEVEL``). Idempotent."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _ActionwaveHandler)]:
        root.removeHandler(old)
    handler = _ActionwaveHandler(stream or sys.stderr)
    handler.setFormatter(TextFormatter() if settings.log_format == "text" else JsonFormatter())
    handler.addFilter(RedactSecrets(secret_values(settings)))
    handler.setLevel(settings.log_level.upper())  # the floor, whatever a logger lets through
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    for name in CELERY_LOGGERS:
        logging.getLogger(name).setLevel(settings.celery_log_level.upper())
    for name in CELERY_STATE_LOGGERS:
        logging.getLogger(name).setLevel(settings.log_level.upper())
    return handler
