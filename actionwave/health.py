"""Readiness: can this process reach the database and the broker right now?

Each check is cheap and bounded by a short timeout, so a load balancer polling ``/readyz`` never
piles up waiting requests when a dependency hangs.
"""

from __future__ import annotations

import logging

import redis
from kombu import Connection
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from actionwave.services import Services

log = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 1.0


def database_ready(services: Services) -> bool:
    """True when ``SELECT 1`` succeeds. Never raises."""
    try:
        with services.session() as session:
            session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        log.warning("readiness: database down: %s", type(exc).__name__)
        return False
    return True


def broker_ready(broker_url: str, timeout: float = CHECK_TIMEOUT_SECONDS) -> bool:
    """True when the broker answers (a Redis PING, or a kombu connection). Never raises."""
    try:
        if broker_url.startswith(("redis://", "rediss://")):
            client = redis.Redis.from_url(broker_url, socket_connect_timeout=timeout,
                                          socket_timeout=timeout)
            try:
                client.ping()
            finally:
                client.close()
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
        "broker": "ok" if broker_ready(services.settings.broker_url) else "down",
    }
