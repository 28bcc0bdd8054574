"""Production on many hosts: what a deploy runs, what refuses to start, and the limits that keep
one host's trouble from holding the others (docs/deploy.md)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from sqlalchemy import select

from actionwave.core.models import Campaign, MessageTemplate
from actionwave.platform.config import Settings, SettingsError
from actionwave.platform.migrate import LOCK_KEY, upgrade
from actionwave.system.health import readiness
from actionwave.system.services import Services
from tests.conftest import CAMPAIGN_FILE
from tests.test_console import csrf, sign_in
from tests.test_console_pages import EDITOR, SLUG, accounts  # noqa: F401 (a fixture)

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
COMPOSE_ENV = {"POSTGRES_PASSWORD": "compose-test", "SECRET_KEY": "compose-test"}


def compose_config(*profiles: str) -> dict:  # type: ignore[type-arg]
    """``docker-compose config`` (Debian's docker-compose): validated and interpolated."""
    if not shutil.which("docker-compose"):
        pytest.fail("docker-compose is not installed (apt-get install docker-compose)")
    flags = [arg for profile in profiles for arg in ("--profile", profile)]
    run = subprocess.run(["docker-compose", *flags, "config"], cwd=ROOT, capture_output=True,
                         text=True, env={"PATH": os.environ["PATH"], **COMPOSE_ENV}, check=False)
    assert run.returncode == 0, run.stderr
    return yaml.safe_load(run.stdout)


def seconds(text: str) -> float:
    return float(text.removesuffix("s"))


# --- The compose file ------------------------------------------------------------------------


def test_compose_file_is_valid_with_and_without_the_pgbouncer_profile():
    plain, pooled = compose_config(), compose_config("pgbouncer")
    assert plain["services"]["pgbouncer"]["profiles"] == ["pgbouncer"]  # only when asked for
    assert pooled["services"]["pgbouncer"]["environment"]["DEFAULT_POOL_SIZE"]
    for config in (plain, pooled):
        for name, service in config["services"].items():
            image = service["image"]
            assert ":" in image and not image.endswith(":latest"), f"{name}: pin {image}"
            assert service["logging"]["options"]["max-size"], f"{name}: logs rotate"
    services = plain["services"]
    for name in ("web", "worker", "worker-mail", "worker-cwc", "beat"):
        assert services[name]["healthcheck"]["test"], f"{name} has a healthcheck"
    from workers.queues import DEFAULT, DELIVERY_CHANNELS

    consumed = [services[name]["command"][services[name]["command"].index("--queues") + 1]
                for name in ("worker", "worker-mail", "worker-cwc")]
    assert sorted(",".join(consumed).split(",")) == sorted([DEFAULT, *DELIVERY_CHANNELS])
    for name in ("worker-mail", "worker-cwc"):  # a fixed concurrency per channel group
        assert "--concurrency" in services[name]["command"]
    web = services["web"]
    from web import gunicorn_conf

    assert seconds(web["stop_grace_period"]) > gunicorn_conf.graceful_timeout > 20
    assert seconds(services["worker"]["stop_grace_period"]) \
        > Settings.task_time_limit_seconds
    assert services["redis"]["command"][services["redis"]["command"].index(
        "--maxmemory-policy") + 1] == "noeviction"


def test_every_url_comes_from_the_environment_with_the_bundled_default():
    managed = {"DATABASE_URL": "postgresql+psycopg://aw@db.internal:5432/aw",
               "REDIS_URL": "rediss://:pw@cache.internal:6380/0",
               "BROKER_URL": "rediss://:pw@cache.internal:6380/1"}
    run = subprocess.run(["docker-compose", "config"], cwd=ROOT, capture_output=True, text=True,
                         env={"PATH": os.environ["PATH"], **COMPOSE_ENV, **managed}, check=True)
    env = yaml.safe_load(run.stdout)["services"]["worker"]["environment"]
    assert {k: env[k] for k in managed} == managed
    bundled = compose_config()["services"]["worker"]["environment"]
    assert bundled["DATABASE_URL"].endswith("@postgres:5432/actionwave")
    assert bundled["REDIS_URL"] == "redis://redis:6379/0"


def test_the_image_installs_the_lock_and_the_context_leaves_the_venv_out():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "requirements.lock" in dockerfile and "--no-deps" in dockerfile
    lock = (ROOT / "requirements.lock").read_text().splitlines()
    pins = [line for line in lock if line and not line.startswith("#")]
    assert pins and all("==" in line for line in pins)
    for name in ("celery", "flask", "sqlalchemy", "psycopg", "gunicorn", "gevent"):
        assert any(line.lower().startswith(f"{name}==") for line in pins), name
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignored and "instance" in ignored and ".git" in ignored


# --- Deploys never overwrite organizers' work -----------------------------------------------


def run_release(settings: Settings) -> subprocess.CompletedProcess[str]:
    """Exactly what compose's release step (``migrate``) runs, against the test database."""
    command = compose_config()["services"]["migrate"]["command"]
    env = {**os.environ, **settings.to_env(), "PATH": f"{BIN}:{os.environ['PATH']}"}
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_a_deploy_keeps_console_edits_and_a_paused_campaign_paused(client, accounts, settings):  # noqa: F811
    sign_in(client, "organizer")
    copy = client.post(f"/console/campaigns/{SLUG}/copy/en", data={
        "csrf_token": csrf(client), "title": "Edited in the console", "lede": "Our lede.",
        "ask_house": "co-sponsor it.", "ask_senate": "introduce it.", "email_body": "Please.",
        "why": "Our reason."})
    template = client.post(EDITOR, data={
        "csrf_token": csrf(client), "subject-en": "Our subject",
        "body-en": "Dear {{ legislator.name }}, our words: {{ ask }}\n",
        "subject-zh-Hant": "我們", "body-zh-Hant": "{{ legislator.name }}：{{ ask }}\n"})
    assert copy.status_code == template.status_code == 302
    with accounts.session() as session:
        session.execute(sa.update(Campaign).where(Campaign.slug == SLUG).values(status="paused"))
        session.commit()

    release = run_release(settings)
    assert release.returncode == 0, release.stderr
    assert "left as organizers edited it" in release.stdout

    with accounts.session() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.slug == SLUG))
        body = session.scalar(select(MessageTemplate.body).where(
            MessageTemplate.campaign_id == campaign.id, MessageTemplate.kind == "email",
            MessageTemplate.locale == "en", MessageTemplate.name == "default"))
    assert campaign.status == "paused"
    assert campaign.content["en"]["title"] == "Edited in the console"
    assert body == "Dear {{ legislator.name }}, our words: {{ ask }}\n"


def cli(settings: Settings, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **settings.to_env()}
    return subprocess.run([sys.executable, "-m", "actionwave", *args], cwd=ROOT, env=env,
                          input=stdin, capture_output=True, text=True, timeout=120, check=False)


def test_force_shows_the_difference_first_and_never_resets_the_status(settings, campaign_slug,
                                                                      committed_db):
    with committed_db.session() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.slug == campaign_slug))
        campaign.content = {**campaign.content, "en": {**campaign.content["en"],
                                                       "title": "Organizer's title"}}
        campaign.status = "paused"
        session.commit()
    declined = cli(settings, "campaign", "load", "--force", str(CAMPAIGN_FILE), stdin="n\n")
    assert declined.returncode == 0, declined.stderr
    assert "-    title: Organizer's title" in declined.stdout
    assert "nothing changed" in declined.stdout
    forced = cli(settings, "campaign", "load", "--force", "--yes", str(CAMPAIGN_FILE))
    assert forced.returncode == 0 and "replaced campaign" in forced.stdout
    with committed_db.session() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.slug == campaign_slug))
    assert campaign.content["en"]["title"] != "Organizer's title"
    assert campaign.status == "paused"
    same = cli(settings, "campaign", "load", "--force", str(CAMPAIGN_FILE))
    assert "nothing to change" in same.stdout


# --- Refuse what is unsafe -------------------------------------------------------------------


@pytest.mark.parametrize("process", ["web", "worker", "beat"])
def test_server_database_without_redis_refuses_to_start(settings, process: str):
    started = time.monotonic()
    run = cli(replace(settings, redis_url=""), process)
    assert run.returncode != 0 and "REDIS_URL" in run.stderr, run.stderr
    assert time.monotonic() - started < 30  # refused, not restarted by the supervisor


def test_no_per_process_fallbacks_outside_the_embedded_default(settings, tmp_path):
    from actionwave.platform.ratelimit import make_rate_limiter

    server = replace(settings, redis_url="")
    with pytest.raises(SettingsError, match="REDIS_URL"):
        make_rate_limiter(server)
    embedded = Settings.from_env({}, instance_path=tmp_path)
    assert make_rate_limiter(embedded)


def test_a_sendgrid_key_without_mail_from_refuses_to_start(settings, tmp_path):
    with pytest.raises(SettingsError, match="MAIL_FROM"):
        Settings.from_env({"SENDGRID_API_KEY": "SG.k", "INSTANCE_PATH": str(tmp_path)})
    env = {**os.environ, "SENDGRID_API_KEY": "SG.k", "INSTANCE_PATH": str(tmp_path)}
    env.pop("MAIL_FROM", None)
    run = subprocess.run([sys.executable, "-m", "actionwave", "db", "upgrade"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode != 0 and "MAIL_FROM" in run.stderr
    assert Settings.from_env({"INSTANCE_PATH": str(tmp_path)}).mail_from  # the dev outbox


# --- The connection budget and the database's limits -----------------------------------------


def test_pool_and_session_limits_come_from_the_settings(settings):
    limited = replace(settings, db_pool_size=3, db_max_overflow=2, db_statement_timeout_ms=300,
                      db_lock_timeout_ms=200)
    services = Services(limited)
    try:
        assert services.engine.pool.size() == 3 and services.engine.pool._max_overflow == 2
        with services.engine.connect() as connection:
            assert connection.exec_driver_sql("SHOW statement_timeout").scalar() == "300ms"
            assert connection.exec_driver_sql("SHOW lock_timeout").scalar() == "200ms"
            with pytest.raises(sa.exc.OperationalError, match="statement timeout"):
                connection.exec_driver_sql("SELECT pg_sleep(2)")
    finally:
        services.close()


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never answers (a hung server)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield listener.getsockname()[1]


def test_readiness_answers_within_its_timeout_when_the_database_hangs(settings, silent_server):
    hung = replace(settings, readiness_timeout_seconds=0.5,
                   database_url=f"postgresql+psycopg://x@127.0.0.1:{silent_server}/x")
    services = Services(hung)
    try:
        for _ in range(3):  # the second and third find the first still hanging: no pile-up
            started = time.monotonic()
            assert readiness(services)["database"] == "down"
            assert time.monotonic() - started < 1.5
    finally:
        services.close()


def test_migrations_wait_for_each_other(settings):
    """A second release started while one migrates waits for the advisory lock, then finds
    nothing to do."""
    holder = sa.create_engine(settings.database_url)
    done = threading.Event()
    with holder.connect() as connection:
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
        thread = threading.Thread(target=lambda: (upgrade(settings.database_url), done.set()))
        thread.start()
        assert not done.wait(1.0), "the second runner did not wait for the lock"
        connection.rollback()
    thread.join(30)
    assert done.is_set()
    holder.dispose()


def test_the_x_client_gives_up_on_a_hung_server(settings, silent_server):
    from actionwave.core.channels import Retryable
    from actionwave.social.x_poster import XPoster

    poster = XPoster(replace(settings, x_api_url=f"http://127.0.0.1:{silent_server}",
                             x_consumer_key="k", x_consumer_secret="s", x_access_token="t",
                             x_access_token_secret="ts"))
    poster.client.session.timeout = 0.5  # default TIMEOUT_SECONDS (15 s), shortened here
    started = time.monotonic()
    with pytest.raises(Retryable):
        poster.post("hello")
    assert time.monotonic() - started < 3


# --- Time limits and shutdown ------------------------------------------------------------------


def test_thread_pool_tasks_get_soft_then_hard_time_limits():
    from billiard.exceptions import SoftTimeLimitExceeded

    from workers.time_limits import ThreadTimeLimits

    exits: list[int] = []
    limits = ThreadTimeLimits(soft=0.3, hard=0.8, exit_process=exits.append)
    limits.start(interval=0.05)
    outcome: list[str] = []

    def task(ignore_soft: bool) -> None:
        limits.task_started("slow")
        try:
            deadline = time.monotonic() + 2
            while time.monotonic() < deadline:
                try:
                    time.sleep(0.01)
                except SoftTimeLimitExceeded:
                    outcome.append("soft")
                    if not ignore_soft:
                        return
        finally:
            limits.task_finished()

    polite = threading.Thread(target=task, args=(False,))
    polite.start()
    polite.join(3)
    assert outcome == ["soft"] and exits == []
    stubborn = threading.Thread(target=task, args=(True,))
    stubborn.start()
    stubborn.join(3)
    assert exits == [1]  # the worker process would be replaced (acks_late: the task reruns)


def test_gunicorn_outlasts_nginx_idle_connections_and_a_group_commit():
    import re

    from web import gunicorn_conf

    template = (ROOT / "deploy/nginx/actionwave.conf.template").read_text()
    upstream = template[template.index("upstream actionwave_web {"):]
    nginx_idle = re.search(r"keepalive_timeout (\d+)s;", upstream[:upstream.index("\n}")])
    assert nginx_idle and gunicorn_conf.keepalive > int(nginx_idle.group(1))
    assert "resolver ${RESOLVER}" in template
    assert gunicorn_conf.graceful_timeout > 20  # GroupCommitWriter's longest wait


# --- Metrics that add up across hosts ----------------------------------------------------------


def test_host_metrics_and_cluster_metrics_are_scraped_apart(client, settings, committed_db):
    headers = {"Authorization": f"Bearer {settings.metrics_token}"}
    client.get("/healthz")
    host = client.get("/metrics?scope=host", headers=headers).get_data(as_text=True)
    cluster = client.get("/metrics?scope=cluster", headers=headers).get_data(as_text=True)
    both = client.get("/metrics", headers=headers).get_data(as_text=True)
    assert "actionwave_http_request_duration_seconds" in host
    assert "actionwave_outbox_backlog" not in host and "actionwave_queue_depth" not in host
    assert "actionwave_outbox_backlog" in cluster
    assert "actionwave_http_request_duration_seconds" not in cluster
    assert "actionwave_outbox_backlog" in both and "actionwave_http_request_duration" in both
    assert client.get("/metrics?scope=all", headers=headers).status_code == 400


# --- Healthchecks of the processes without a port ----------------------------------------------


def test_worker_healthcheck_pings_this_hosts_worker(settings, start_worker):
    start_worker(args=("-n", "worker@health-test"))
    assert cli(settings, "health", "worker", "--node", "worker@health-test").returncode == 0
    assert cli(settings, "health", "worker", "--node", "worker@nowhere").returncode == 1


def test_beat_healthcheck_reads_the_heartbeat_of_each_tick(settings, tmp_path):
    from schedules.lock import HEARTBEAT_FILE, HEARTBEAT_STALE_SECONDS, beat_alive

    local = replace(settings, instance_path=tmp_path)
    assert cli(local, "health", "beat").returncode == 1  # never ticked
    (tmp_path / HEARTBEAT_FILE).touch()
    assert cli(local, "health", "beat").returncode == 0
    assert not beat_alive(tmp_path, now=time.time() + HEARTBEAT_STALE_SECONDS + 1)
