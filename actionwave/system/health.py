"""Readiness: can this process reach the database and the broker right now?

Each check is cheap and bounded by ``READINESS_TIMEOUT_SECONDS``, so a load balancer polling
``/readyz`` never piles up waiting requests when a dependency hangs: the database check runs in
a thread that is waited for that long, and while one still hangs the next answers "down" at once
instead of starting another.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from kombu import Connection
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from actionwave.platform.redis_clients import redis_client
from actionwave.system.services import Services

log = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 1.0
_in_flight: dict[str, threading.Thread] = {}
_in_flight_lock = threading.Lock()


def within(name: str, check: Callable[[], bool], timeout: float) -> bool:
    """``check()`` if it answers within ``timeout`` seconds, else False (logged). At most one
    check of each ``name`` runs at a time."""
    answer: list[bool] = []
    with _in_flight_lock:
        previous = _in_flight.get(name)
        if previous is not None and previous.is_alive():
            log.warning("readiness: %s check still hanging", name)
            return False
        thread = threading.Thread(target=lambda: answer.append(check()), daemon=True,
                                  name=f"readiness-{name}")
        _in_flight[name] = thread
        thread.start()
    thread.join(timeout)
    if not answer:
        log.warning("readiness: %s did not answer within %g s", name, timeout)
    return bool(answer) and answer[0]


def database_ready(services: Services, timeout: float | None = None) -> bool:
    """True when ``SELECT 1`` succeeds within ``timeout`` (default the setting). Never raises."""

    def select_one() -> bool:
        try:
            with services.session() as session:
                session.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            log.warning("readiness: database down: %s", type(exc).__name__)
            return False
        return True

    return within("database", select_one,
                  timeout or services.settings.readiness_timeout_seconds)


def broker_ready(broker_url: str, timeout: float = CHECK_TIMEOUT_SECONDS) -> bool:
    """True when the broker answers (a Redis PING, or a kombu connection). Never raises."""
    try:
        if broker_url.startswith(("redis://", "rediss://")):
            redis_client(broker_url, timeout).ping()
        else:
            with Connection(broker_url, connect_timeout=timeout) as conn:
                conn.ensure_connection(max_retries=1, timeout=timeout)
    except Exception as exc:  # kombu raises transport-specific types: any failure = not ready
        log.warning("readiness: broker down: %s", type(exc).__name__)
        return False
    return True


def readiness(services: Services) -> dict[str, str]:
    """``{"database": "ok"|"down", "broker": "ok"|"down"}``."""
    return {
        "database": "ok" if database_ready(services) else "down",
        "broker": "ok" if broker_ready(services.settings.broker_url,
                                       services.settings.readiness_timeout_seconds) else "down",
    }
