"""Prometheus metrics: counters of the web processes, and what is read from the database and
the broker at scrape time.

Import the web's counters where the event happens, e.g.::

    from actionwave.system.metrics import INTAKE_SUBMISSIONS
    INTAKE_SUBMISSIONS.labels(outcome="accepted").inc()

With several gunicorn processes, set ``PROMETHEUS_MULTIPROC_DIR`` (before the processes start)
and the counters of all of them are summed. What the workers count (deliveries sent, rate-limit
waits, bill polls) lives in ``actionwave.core.counters``, and backlogs (outbox, broker queue,
deliveries not yet settled) are counted where they are, so every process reports the same truth.

Two scopes, so that several hosts never count one thing twice (docs/deploy.md): ``host`` is what
this host's processes counted (request latency, intake outcomes): Prometheus sums it across
hosts. ``cluster`` is what the database and the broker hold (backlogs, deliveries sent, the
workers' running counts): the same figure on every host, so it is scraped once, through the
balancer, never summed across hosts. A scrape with no scope gets both (one host).
A scrape costs a few indexed reads, however many deliveries a campaign has sent: sent ones are a
running count, not counted again each time (that full scan of ``deliveries`` every scrape took
both cores of a launch-day machine for a moment, and stalled the intake with it).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import redis
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from actionwave.core.counters import read_counters
from actionwave.core.models import Delivery, OutboxMessage
from actionwave.delivery.states import DEAD, FAILED, PENDING, SENDING
from actionwave.platform.config import Settings
from actionwave.platform.redis_clients import redis_client

if TYPE_CHECKING:
    from actionwave.system.services import Services

INTAKE_SUBMISSIONS = Counter(
    "actionwave_intake_submissions",
    "Supporter submissions answered by the intake, by outcome "
    "(accepted, duplicate, honeypot, invalid, unknown_campaign, rate_limited, unavailable).",
    ["outcome"],
)
REQUEST_SECONDS = Histogram(
    "actionwave_http_request_duration_seconds",
    "Time to answer an HTTP request, by route (endpoint name) and method.",
    ["endpoint", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
INTAKE_BATCH_ROWS = Histogram(
    "actionwave_intake_batch_rows",
    "Submissions written per group commit (one statement, one commit) in the web processes.",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)

class BacklogCollector:
    """Gauges computed at scrape time from the database and the broker. Never raises."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("actionwave_backlog_source_up",
                               "1 when the source of the backlog gauges answered.",
                               labels=["source"])
        try:
            yield from self._database()
            up.add_metric(["database"], 1)
        except SQLAlchemyError:  # a scrape reports a down database rather than failing
            up.add_metric(["database"], 0)
        settings = self.services.settings
        if settings.broker_url.startswith("redis"):
            try:
                yield self._queue_depth()
                up.add_metric(["broker"], 1)
            except redis.RedisError:
                up.add_metric(["broker"], 0)
        yield up

    def _database(self) -> list[Metric]:
        outbox = GaugeMetricFamily("actionwave_outbox_backlog",
                                   "Committed messages not yet relayed to the broker.")
        deliveries = GaugeMetricFamily(
            "actionwave_deliveries",
            "Deliveries not sent, by state (pending, sending, failed, dead) and channel.",
            labels=["state", "channel"])
        with self.services.session() as session:
            outbox.add_metric([], session.scalar(select(func.count()).select_from(OutboxMessage)))
            rows = session.execute(  # through ix_deliveries_due: as many rows as are unsent
                select(Delivery.state, Delivery.channel, func.count())
                .where(Delivery.state.in_(UNSENT_STATES))
                .group_by(Delivery.state, Delivery.channel)
            ).all()
            counts = read_counters(session)
        for state, channel, count in rows:
            deliveries.add_metric([state, channel], count)
        return [outbox, deliveries, *running_counts(counts)]

    def _queue_depth(self) -> Metric:
        settings = self.services.settings
        depth = queue_depth(settings, timeout=0.5)
        gauge = GaugeMetricFamily("actionwave_queue_depth",
                                  "Tasks waiting in the Celery queue on the broker.",
                                  labels=["queue"])
        gauge.add_metric([settings.namespace], depth)
        return gauge


UNSENT_STATES = (PENDING, SENDING, FAILED, DEAD)
QUEUE_PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")  # kombu's Redis priorities


def queue_depth(settings: Settings, timeout: float = 1.0, queue: str | None = None) -> int | None:
    """Tasks waiting in a Celery queue on the broker (at every priority kombu keeps on Redis):
    the default queue, or ``queue``; None when the broker is not Redis. The dashboard, the
    metrics and the delivery tasks all read it here. Raises ``redis.RedisError`` when Redis does
    not answer within about ``timeout``."""
    if not settings.broker_url.startswith(("redis://", "rediss://")):
        return None
    client = redis_client(settings.broker_url, timeout)
    name = queue or settings.namespace
    lengths = client.pipeline(transaction=False)
    for suffix in QUEUE_PRIORITY_SUFFIXES:
        lengths.llen(name + suffix)
    return sum(int(length) for length in lengths.execute())  # one round trip


# family in actionwave.core.counters -> (metric, help, label)
RUNNING_COUNTS = {
    "deliveries_sent": ("actionwave_deliveries_sent",
                        "Deliveries the provider accepted, by channel.", "channel"),
    "rate_limit_waits": ("actionwave_rate_limit_waits",
                         "Times a sender found no rate-limit token and waited, by bucket "
                         "(the provider's, or office for the per-office limit).", "bucket"),
    "bill_polls": ("actionwave_bill_polls",
                   "Polls of the bill source, by outcome (changed, unchanged, failed).",
                   "outcome"),
}


def running_counts(counts: dict[str, int]) -> list[Metric]:
    """The workers' running counts (``actionwave.core.counters``) as Prometheus counters."""
    families = {family: CounterMetricFamily(name, text, labels=[label])
                for family, (name, text, label) in RUNNING_COUNTS.items()}
    for key, value in sorted(counts.items()):
        family, _, label = key.partition(":")
        if family in families and label:
            families[family].add_metric([label], value)
    return list(families.values())


SCOPES = ("host", "cluster")


def render_metrics(services: Services, scopes: tuple[str, ...] = SCOPES) -> tuple[bytes, str]:
    """The Prometheus exposition text of ``scopes`` (``host``, ``cluster``) and its type."""
    registry = CollectorRegistry(auto_describe=False)
    if "host" in scopes:
        if services.settings.prometheus_multiproc_dir:
            MultiProcessCollector(registry, path=services.settings.prometheus_multiproc_dir)
        else:
            registry.register(_ProcessRegistry())
    if "cluster" in scopes:
        registry.register(BacklogCollector(services))
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _ProcessRegistry:
    """This process's default registry, re-exposed inside a per-scrape registry."""

    def collect(self) -> Iterator[Metric]:
        return REGISTRY.collect()
