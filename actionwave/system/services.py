"""The running system's shared resources, built once from settings and handed to web and workers.

Nothing here is created at import time: ``Services(settings)`` builds each resource on first use.
Feature areas add their outside services (mailer, geocoder, rate limiter) as properties here so
callers ask for an interface, never for a vendor class.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from actionwave.core.channels import Mailer
from actionwave.platform.config import Settings
from actionwave.platform.db import (
    PostgresOptions,
    intake_first,
    make_engine,
    make_session_factory,
    reads_first,
)

if TYPE_CHECKING:
    from actionwave.bill.congress_api import BillSource
    from actionwave.intake.submissions import SubmissionStore
    from actionwave.legislators.geocoder import Geocoder
    from actionwave.legislators.index import IndexCache
    from actionwave.platform.ratelimit import RateLimiter
    from actionwave.social.x_poster import Poster

# Seconds each geocoder-cache call to Redis may take: a slow Redis costs a lookup little more.
GEOCODER_CACHE_TIMEOUT = 0.5


class Services:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url,
                           PostgresOptions.from_settings(self.settings))

    @cached_property
    def session_factory(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    @cached_property
    def request_session_factory(self) -> sessionmaker[Session]:
        """Sessions for web requests: on SQLite they take the write lock only when they first
        write (``actionwave.platform.db.reads_first``), and before the worker's
        (``intake_first``)."""
        return make_session_factory(reads_first(intake_first(self.engine)))

    @cached_property
    def reads_first_session_factory(self) -> sessionmaker[Session]:
        return make_session_factory(reads_first(self.engine))

    @cached_property
    def submissions(self) -> SubmissionStore:
        """Where the web intake stores submissions: the submissions of concurrent requests in one
        commit (``actionwave.intake.group_commit``), on PostgreSQL and on SQLite."""
        from actionwave.intake.group_commit import GroupCommitWriter, SqliteGroupCommit
        from actionwave.system.metrics import INTAKE_BATCH_ROWS

        if self.engine.dialect.name == "postgresql":
            return GroupCommitWriter(self.engine, observe=INTAKE_BATCH_ROWS.observe)
        return SqliteGroupCommit(make_session_factory(intake_first(self.engine)),
                                 observe=INTAKE_BATCH_ROWS.observe)

    @cached_property
    def mailer(self) -> Mailer:
        """SendGrid, or the dev outbox when no API key is set (``actionwave.mail.make_mailer``)."""
        from actionwave.mail import make_mailer

        return make_mailer(self.settings)

    @cached_property
    def rate_limiter(self) -> RateLimiter:
        """Global token buckets in Redis (in-process on the embedded default)."""
        from actionwave.platform.ratelimit import make_rate_limiter

        return make_rate_limiter(self.settings)

    @cached_property
    def geocoder(self) -> Geocoder:
        """The Census Geocoder at ``GEOCODER_URL``, its answers remembered for an hour (a bad
        address's for five minutes) in Redis when ``REDIS_URL`` is set, so every process shares
        them, else in this process: a flood of one address asks it once; per-client limits,
        web/ratelimit.py, stop the rest."""
        from actionwave.legislators.geocoder import (
            AnswerCache,
            CachedGeocoder,
            CensusGeocoder,
            LocalAnswers,
            RedisAnswers,
        )
        from actionwave.platform.redis_clients import redis_client

        answers: AnswerCache = LocalAnswers()
        if self.settings.redis_url:
            answers = RedisAnswers(redis_client(self.settings.redis_url, GEOCODER_CACHE_TIMEOUT),
                                   self.settings.namespace)
        return CachedGeocoder(CensusGeocoder(self.settings.geocoder_url,
                                             self.settings.geocoder_timeout_seconds,
                                             layers=self.settings.geocoder_layers),
                              answers, secret=self.settings.secret_key)

    @cached_property
    def legislators(self) -> IndexCache:
        """This process's ZIP index of the current legislator snapshot."""
        from actionwave.legislators.index import IndexCache

        return IndexCache(self.session_factory, self.settings.legislators_check_seconds)

    @cached_property
    def bill_source(self) -> BillSource:
        """congress.gov, spending from an hourly budget in the shared rate limiter."""
        from actionwave.bill.budget import RequestBudget
        from actionwave.bill.congress_api import CongressGovClient

        budget = RequestBudget(self.settings.congress_requests_per_hour, self.rate_limiter)
        return CongressGovClient(self.settings.congress_api_url, self.settings.congress_api_key,
                                 budget, timeout=self.settings.congress_timeout_seconds)

    @cached_property
    def poster(self) -> Poster:
        """The campaign's X account, or files under instance/posts/ without credentials."""
        from actionwave.social.x_poster import make_poster

        return make_poster(self.settings)

    def session(self, reads_first: bool = False) -> Session:
        """A worker's session. ``reads_first``: on SQLite it holds no lock until it first
        writes, for a task that reads and calls out (the geocoder) before it writes."""
        return (self.reads_first_session_factory if reads_first else self.session_factory)()

    def request_session(self) -> Session:
        return self.request_session_factory()

    def __enter__(self) -> Services:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        if "submissions" in self.__dict__:
            self.submissions.close()
        if "engine" in self.__dict__:
            self.engine.dispose()
