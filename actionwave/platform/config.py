"""All configuration, read from the environment in one place.

With nothing set, Actionwave runs on the *embedded default*: a SQLite database and a SQLite-backed
Celery broker under ``instance/``, and mail written as ``.eml`` files to ``instance/outbox/``.
Production sets ``DATABASE_URL`` (PostgreSQL) and ``BROKER_URL``/``REDIS_URL`` (Redis).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

MAX_SURGE_HOLD_SECONDS = 60.0
LOG_FORMATS = ("json", "text")
DEV_MAIL_FROM = "Actionwave <actions@example.org>"


class SettingsError(ValueError):
    """A setting in the environment has a value we cannot use."""


def _bool(value: str) -> bool:
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(f"expected a boolean, got {value!r}")


@dataclass(frozen=True)
class Settings:
    """Typed settings. Each field maps to the environment variable of the same name, upper-cased.

    ``repr`` hides secrets so that settings can be logged safely.
    """

    instance_path: Path = Path("instance")
    database_url: str = ""
    broker_url: str = ""
    redis_url: str = ""
    secret_key: str = field(default="", repr=False)
    public_url: str = "http://127.0.0.1:5000"
    # Prefix of the Celery queue and of every Redis key, so several deployments can share a Redis.
    namespace: str = "actionwave"
    # Intake
    max_body_bytes: int = 16 * 1024
    # Workers
    worker_pool: str = "threads"
    worker_concurrency: int = 4
    # Unix nice increment for Celery workers: on a shared machine supporters' requests come first.
    worker_nice: int = 10
    outbox_batch_size: int = 200
    outbox_poll_seconds: float = 0.2
    # Intake first (actionwave.intake.surge): while more actions than this arrive per second, the
    # relay leaves new ones in the outbox for up to SURGE_HOLD_SECONDS (at most 60); 0 turns it off.
    surge_submissions_per_s: float = 300.0
    surge_hold_seconds: float = 30.0
    # Delivery engine (actionwave.delivery). Rates: 0 lifts the limit.
    delivery_batch_size: int = 500
    delivery_lease_seconds: float = 120.0
    delivery_max_attempts: int = 8
    delivery_backoff_seconds: float = 5.0
    delivery_backoff_max_seconds: float = 3600.0
    delivery_lookup_grace_seconds: float = 60.0
    delivery_sweep_seconds: float = 5.0
    sendgrid_requests_per_minute: int = 600
    office_messages_per_minute: int = 60
    ratelimit_burst: int = 1
    # Mail (SendGrid). No key: mail is written to instance/outbox/.
    sendgrid_api_key: str = field(default="", repr=False)
    sendgrid_api_host: str = "https://api.sendgrid.com"
    sendgrid_webhook_public_key: str = field(default="", repr=False)
    # Signed webhook requests older than this (or this far in the future) are refused as replays.
    sendgrid_webhook_max_age_seconds: int = 300
    # Required with a SendGrid key; the dev outbox alone falls back to DEV_MAIL_FROM.
    mail_from: str = ""
    # X (tweepy). Optional.
    x_api_url: str = "https://api.x.com"
    x_consumer_key: str = field(default="", repr=False)
    x_consumer_secret: str = field(default="", repr=False)
    x_access_token: str = field(default="", repr=False)
    x_access_token_secret: str = field(default="", repr=False)
    # House CWC. Optional.
    cwc_api_url: str = ""
    cwc_api_key: str = field(default="", repr=False)
    cwc_delivery_agent: str = "Actionwave"
    cwc_agent_contact_name: str = ""
    cwc_agent_contact_email: str = ""
    cwc_agent_contact_phone: str = ""
    cwc_organization: str = ""
    cwc_requests_per_minute: int = 60
    # congress.gov
    congress_api_url: str = "https://api.congress.gov/v3"
    congress_api_key: str = field(default="", repr=False)
    bill_poll_seconds: int = 900
    congress_requests_per_hour: int = 1000  # congress.gov allows 5,000; stay well inside
    congress_timeout_seconds: float = 10.0  # each wait for congress.gov's answer
    # Waves and reminders
    wave_chunk_size: int = 5000
    reminder_cap_per_week: int = 2
    reminder_sweep_seconds: float = 60.0  # how often beat plans reminders and sends due ones
    # Local hours (in every zone the supporter may be in) when no reminder goes out.
    quiet_hours_start: int = 21
    quiet_hours_end: int = 9
    # Census geocoder and legislator data
    geocoder_url: str = "https://geocoding.geo.census.gov/geocoder"
    geocoder_timeout_seconds: float = 3.0
    # Census layers to ask for: the congressional districts of the Current vintage (layer id 54,
    # "119th Congressional Districts"); without it Census answers with no district at all.
    geocoder_layers: str = "54"
    data_source: str = ""
    legislators_check_seconds: float = 5.0
    # Logging (actionwave.platform.logs): LOG_LEVEL for everything; Celery's own chatter (each task
    # received and done, each beat send) only at CELERY_LOG_LEVEL and above; "json" lines for
    # production, "text" for people (``actionwave up`` sets it unless LOG_FORMAT is set).
    log_level: str = "INFO"
    celery_log_level: str = "WARNING"
    log_format: str = "json"
    # Abuse limits on the public POST endpoints (web/ratelimit.py), shared through REDIS_URL;
    # "" turns one off.
    rate_limit_per_ip: str = "30/minute"
    rate_limit_per_email: str = "5/hour"
    # Template previews per signed-in user (each renders every locale in the sandbox).
    rate_limit_preview: str = "60/minute"
    # Legislator lookups per client address (the API and step 1 of the campaign page): any
    # lookup, and the stricter one for lookups with a street address (they reach the geocoder).
    rate_limit_lookups: str = "300/minute"
    rate_limit_address_lookups: str = "30/minute"
    # How many reverse proxies in front of us may set X-Forwarded-For; 0 ignores the header.
    trusted_proxies: int = 0
    # Space-separated origins (https://example.org) that may frame embeddable pages.
    embed_allowed_origins: str = ""
    # Who may read /metrics: these comma-separated client addresses, or a scraper sending
    # "Authorization: Bearer <METRICS_TOKEN>" (a secret of its own, not an API token).
    metrics_allowed_ips: str = ""
    metrics_token: str = field(default="", repr=False)
    # Set (to a writable, emptied directory) when gunicorn runs several processes.
    prometheus_multiproc_dir: str = ""
    # --- Production on many hosts (docs/deploy.md) ---
    # PostgreSQL connections per process: DB_POOL_SIZE kept open, DB_MAX_OVERFLOW more at peaks
    # (the budget: docs/deploy.md). A checkout waits DB_POOL_TIMEOUT_SECONDS for a free one.
    db_pool_size: int = 10
    db_max_overflow: int = 10
    db_pool_timeout_seconds: float = 30.0
    db_connect_timeout_seconds: int = 5  # libpq counts whole seconds, at least 2
    # Per statement and per lock wait, in milliseconds; 0 turns one off. Behind PgBouncer they
    # are set by its connect_query (deploy/pgbouncer), as it refuses the startup option.
    db_statement_timeout_ms: int = 60_000
    db_lock_timeout_ms: int = 10_000
    # DATABASE_URL points at PgBouncer in transaction mode: no prepared statements, no startup
    # options (psycopg 3's prepare_threshold=None).
    db_pgbouncer: bool = False
    # Each /readyz check (database, broker) answers "down" after this long.
    readiness_timeout_seconds: float = 1.0
    # A task past the soft limit gets SoftTimeLimitExceeded; past the hard one its worker
    # process is replaced. Keep both below DELIVERY_LEASE_SECONDS: no task outlives its leases.
    task_soft_time_limit_seconds: float = 90.0
    task_time_limit_seconds: float = 110.0
    # Seconds a stopping web process finishes the requests it holds (a group commit waits 20 s).
    web_graceful_timeout_seconds: int = 30
    # Comma-separated addresses or networks (10.0.0.0/8) of the proxies whose X-Forwarded-For is
    # believed, hop by hop from the right, up to TRUSTED_PROXIES hops; "" trusts any peer.
    trusted_proxy_addresses: str = ""

    def __post_init__(self) -> None:
        if self.log_format not in LOG_FORMATS:
            raise SettingsError(f"LOG_FORMAT: expected one of {', '.join(LOG_FORMATS)}, "
                                f"got {self.log_format!r}")
        # Held longer, an action would be taken for stalled and queued twice (workers/relay.py).
        if not 0 <= self.surge_hold_seconds <= MAX_SURGE_HOLD_SECONDS:
            raise SettingsError(f"SURGE_HOLD_SECONDS: expected 0 to {MAX_SURGE_HOLD_SECONDS:g},"
                                f" got {self.surge_hold_seconds:g}")
        if not 0 < self.task_soft_time_limit_seconds < self.task_time_limit_seconds:
            raise SettingsError(
                "TASK_SOFT_TIME_LIMIT_SECONDS: expected above 0 and below TASK_TIME_LIMIT_SECONDS,"
                f" got {self.task_soft_time_limit_seconds:g} and {self.task_time_limit_seconds:g}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from ``environ`` (default ``os.environ``); ``overrides`` win over both."""
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = environ.get(f.name.upper())
            if raw is None:
                continue
            kind = type(f.default)
            try:
                if kind is bool:
                    values[f.name] = _bool(raw)
                elif kind in (int, float):
                    values[f.name] = kind(raw)
                elif kind is str:
                    values[f.name] = raw
                else:
                    values[f.name] = Path(raw)
            except ValueError as exc:
                raise SettingsError(f"{f.name.upper()}: {exc}") from exc
        values.update(overrides)
        return cls(**values).with_embedded_defaults()

    def with_embedded_defaults(self) -> Settings:
        """Fill unset URLs with the embedded SQLite defaults under ``instance_path``."""
        instance = self.instance_path.resolve()
        changes: dict[str, object] = {"instance_path": instance}
        if not self.database_url:
            changes["database_url"] = f"sqlite:///{instance / 'actionwave.db'}"
        if not self.broker_url:
            changes["broker_url"] = f"sqla+sqlite:///{instance / 'broker.db'}"
        if not self.secret_key:
            changes["secret_key"] = _instance_secret(instance)
        if not self.mail_from:
            if self.sendgrid_api_key:
                raise SettingsError("MAIL_FROM: required when SENDGRID_API_KEY is set (the"
                                    " sender SendGrid has verified, 'Name <address>')")
            changes["mail_from"] = DEV_MAIL_FROM  # mail only goes to instance/outbox/
        return replace(self, **changes)

    def require_redis(self, what: str) -> None:
        """Refuse ``what`` (web, a worker, beat, a limiter) on a server database without Redis:
        rate limits and the beat lock would be per process instead of shared."""
        if not self.embedded and not self.redis_url:
            raise SettingsError(
                f"REDIS_URL: required for {what} when DATABASE_URL is a server database;"
                " rate limits and the beat lock are shared through it")

    def to_env(self) -> dict[str, str]:
        """These settings as environment variables, for child processes (includes secrets).

        A setting that is empty and empty by default is left out: some libraries read their
        variable themselves and treat "set but empty" as set (prometheus_client's multiprocess
        directory). An empty value that overrides a default (a limit turned off) is kept.
        """
        return {f.name.upper(): str(getattr(self, f.name)) for f in fields(self)
                if getattr(self, f.name) != "" or f.default != ""}

    @property
    def embedded(self) -> bool:
        """True when the database is SQLite (the no-server default)."""
        return self.database_url.startswith("sqlite")

    @property
    def outbox_dir(self) -> Path:
        return self.instance_path / "outbox"


def _instance_secret(instance: Path) -> str:
    """A development secret kept in ``instance/secret_key`` so sessions survive restarts."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    import secrets

    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
