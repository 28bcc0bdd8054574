"""Per-request access to the shared services and a database session."""

from __future__ import annotations

from flask import current_app, g
from sqlalchemy.orm import Session

from actionwave.system.services import Services


def services() -> Services:
    return current_app.extensions["actionwave"]


def db() -> Session:
    """The request's session, closed when the request ends. On SQLite it holds no lock until it
    first writes, so reading here never blocks the submission store's own connection."""
    if "db" not in g:
        g.db = services().request_session()
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()
