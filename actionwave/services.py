"""The running system's shared resources, built once from settings and handed to web and workers.

Nothing here is created at import time: ``Services(settings)`` builds each resource on first use.
Feature areas add their outside services (mailer, geocoder, rate limiter) as properties here so
callers ask for an interface, never for a vendor class.
"""

from __future__ import annotations

from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from actionwave.config import Settings
from actionwave.db import make_engine, make_session_factory


class Services:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    @cached_property
    def session_factory(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    def session(self) -> Session:
        return self.session_factory()

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()
