"""/metrics (protected, with intake, latency and backlog figures) and /readyz."""

from __future__ import annotations

import http.client
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient

from actionwave.accounts.services import create_api_token
from actionwave.cli.runner import shared_metrics_dir
from actionwave.core.counters import bump_counters
from actionwave.delivery.engine import deliver_due
from actionwave.delivery.mailing import MAIL_CHANNEL, MailSender
from actionwave.delivery.policy import DeliveryPolicy
from actionwave.mail.sendgrid_mailer import SendGridMailer
from actionwave.platform.config import Settings
from actionwave.platform.ratelimit import LocalRateLimiter
from actionwave.system.services import Services
from tests.conftest import METRICS_TOKEN
from tests.delivery_support import add_mail_deliveries, mail_settings
from tests.stubs.sendgrid import sendgrid_stub
from tests.support import gunicorn_workers, open_connections, wait_for, web_processes


@pytest.fixture
def make_app(settings: Settings) -> Iterator[Callable[..., Flask]]:
    """``make_app(**changes)``: an app on changed settings, with services of its own."""
    from web import create_app

    made: list[Services] = []

    def make(**changes: object) -> Flask:
        changed = replace(settings, **changes)
        made.append(Services(changed))
        return create_app(changed, made[-1])

    yield make
    for services in made:
        services.close()


def bearer(services: Services, role: str) -> dict[str, str]:
    with services.session() as session:
        _row, secret = create_api_token(session, f"prometheus ({role})", role)
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def ops(make_app: Callable[..., Flask], committed_db: Services) -> FlaskClient:
    """A client that sends the Prometheus scrape's token (METRICS_TOKEN) with every request."""
    client = make_app().test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {METRICS_TOKEN}"
    return client


def value(text: str, prefix: str) -> float:
    """The sample value of the first exposition line starting with ``prefix``."""
    line = next(line for line in text.splitlines() if line.startswith(prefix))
    return float(line.rsplit(" ", 1)[1])


def test_metrics_need_the_scrape_token_not_an_api_token(make_app, committed_db: Services):
    client = make_app().test_client()
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer aw_guess"})
    assert wrong.status_code == 401 and wrong.get_json()["error"]["message"]
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 401
    for role in ("viewer", "organizer", "admin"):
        assert client.get("/metrics", headers=bearer(committed_db, role)).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
                      ).status_code == 200


def test_metrics_allow_listed_addresses_need_no_token(make_app):
    client = make_app(metrics_allowed_ips="10.9.9.9").test_client()
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.9.9.8"}).status_code == 401


def test_metrics_count_intake_outcomes_and_report_backlogs(ops: FlaskClient, campaign_slug,
                                                           committed_db):
    before = ops.get("/metrics").get_data(as_text=True)
    accepted = 'actionwave_intake_submissions_total{outcome="accepted"}'
    invalid = 'actionwave_intake_submissions_total{outcome="invalid"}'
    start_ok = value(before, accepted) if accepted in before else 0.0
    start_bad = value(before, invalid) if invalid in before else 0.0
    url = f"/api/v1/campaigns/{campaign_slug}/actions"
    ops.post(url, json={"email": "m@example.org", "first_name": "M", "last_name": "N",
                        "zip": "60601"})
    ops.post(url, json={"email": "m@example.org"})
    text = ops.get("/metrics").get_data(as_text=True)
    assert value(text, accepted) == start_ok + 1
    assert value(text, invalid) == start_bad + 1
    assert value(text, "actionwave_outbox_backlog ") >= 1  # no worker: the action waits
    assert f'actionwave_queue_depth{{queue="{committed_db.settings.namespace}"}}' in text
    assert 'actionwave_backlog_source_up{source="database"} 1.0' in text
    assert "actionwave_http_request_duration_seconds_bucket" in text


def test_what_workers_count_reaches_the_scrape(ops: FlaskClient, campaign_slug, committed_db,
                                               settings: Settings):
    """Deliveries sent and rate-limit waits happen in Celery workers, bill polls in beat's
    tasks: their running counts live in the database, so any web process's scrape has them."""
    with sendgrid_stub() as stub:
        mailing = mail_settings(settings, stub, sendgrid_requests_per_minute=600)
        sender = MailSender(SendGridMailer(mailing))
        limiter = LocalRateLimiter()
        limiter.take(sender.provider, 600)  # the bucket is empty: the send waits for a token
        with committed_db.session() as session:
            add_mail_deliveries(session, campaign_slug, 3, category="action")  # one request
        deliver_due(committed_db.session_factory, MAIL_CHANNEL, sender, limiter,
                    DeliveryPolicy.from_settings(mailing), "w1")
    with committed_db.session() as session:
        bump_counters(session, {"bill_polls:unchanged": 2})  # what poll_campaign_bill does
        session.commit()
    text = ops.get("/metrics").get_data(as_text=True)
    assert value(text, 'actionwave_deliveries_sent_total{channel="email"}') == 3
    assert value(text, 'actionwave_rate_limit_waits_total{bucket="sendgrid"}') == 1
    assert value(text, 'actionwave_bill_polls_total{outcome="unchanged"}') == 2
    # Sent deliveries are a running count; the gauge counts only what is not sent (indexed).
    assert 'actionwave_deliveries{channel="email",state="sent"}' not in text


def test_readyz_is_ready_when_database_and_broker_answer(client: FlaskClient):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok", "broker": "ok"}


def test_readyz_names_the_broker_when_it_is_down(make_app):
    client = make_app(broker_url="redis://127.0.0.1:1/0").test_client()
    response = client.get("/readyz")
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert response.get_json()["down"] == ["broker"]


def test_readyz_names_the_database_when_it_is_down(make_app):
    client = make_app(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none").test_client()
    response = client.get("/readyz")
    assert response.status_code == 503 and response.get_json()["down"] == ["database"]


def test_metrics_sum_every_web_process_without_configuration(settings: Settings, tmp_path):
    """``actionwave web --workers 2`` with no PROMETHEUS_MULTIPROC_DIR: a scrape still counts
    the requests both processes answered, not only its own process's."""
    settings = replace(settings, metrics_allowed_ips="127.0.0.1")
    with web_processes(settings, tmp_path / "web.log") as (port, master):
        clients = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(24)]
        for client in clients:
            client.connect()  # all open at once
        requests = 0

        def both_processes_served() -> bool:
            """A round of requests; then, does each process hold a connection it answered on?
            (The kernel spreads connections over the processes' sockets, not evenly.)"""
            nonlocal requests
            for client in clients:
                client.request("GET", "/healthz")
                client.getresponse().read()
                requests += 1
            held = [open_connections(pid, port) for pid in gunicorn_workers(master.pid)]
            return len(held) == 2 and all(held)

        try:
            wait_for(both_processes_served, timeout=60, interval=0,
                     message="both web processes to answer requests")
        finally:
            for client in clients:
                client.close()
        scrape = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        scrape.request("GET", "/metrics")
        text = scrape.getresponse().read().decode()
        scrape.close()
    [count] = [line.rsplit(" ", 1)[1] for line in text.splitlines() if line.startswith(
        'actionwave_http_request_duration_seconds_count{endpoint="public.healthz"')]
    assert float(count) >= requests


def test_a_configured_metrics_folder_is_emptied_of_an_earlier_run(tmp_path):
    (tmp_path / "counter_123.db").write_bytes(b"old")
    (tmp_path / "notes.txt").write_text("kept")
    assert shared_metrics_dir(str(tmp_path), workers=4) == str(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    assert shared_metrics_dir("", workers=1) == ""  # one process counts in memory
