"""/metrics (protected, with intake, latency and backlog figures) and /readyz."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient

from actionwave.accounts.services import create_api_token
from actionwave.config import Settings
from actionwave.metrics import BILL_POLLS, RATE_LIMIT_WAITS
from actionwave.services import Services


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
    """A client that sends an admin API token (the Prometheus scrape's) with every request."""
    client = make_app().test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = bearer(committed_db, "admin")["Authorization"]
    return client


def value(text: str, prefix: str) -> float:
    """The sample value of the first exposition line starting with ``prefix``."""
    line = next(line for line in text.splitlines() if line.startswith(prefix))
    return float(line.rsplit(" ", 1)[1])


def test_metrics_need_an_admin_api_token(make_app, committed_db: Services):
    client = make_app().test_client()
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer aw_guess"})
    assert wrong.status_code == 401 and wrong.get_json()["error"]["message"]
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 401
    for role in ("viewer", "organizer"):
        assert client.get("/metrics", headers=bearer(committed_db, role)).status_code == 401
    assert client.get("/metrics", headers=bearer(committed_db, "admin")).status_code == 200


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
    RATE_LIMIT_WAITS.labels(bucket="sendgrid").inc()
    BILL_POLLS.labels(outcome="unchanged").inc()
    text = ops.get("/metrics").get_data(as_text=True)
    assert value(text, accepted) == start_ok + 1
    assert value(text, invalid) == start_bad + 1
    assert value(text, "actionwave_outbox_backlog ") >= 1  # no worker: the action waits
    assert f'actionwave_queue_depth{{queue="{committed_db.settings.namespace}"}}' in text
    assert 'actionwave_backlog_source_up{source="database"} 1.0' in text
    assert "actionwave_http_request_duration_seconds_bucket" in text
    assert 'actionwave_rate_limit_waits_total{bucket="sendgrid"}' in text
    assert 'actionwave_bill_polls_total{outcome="unchanged"}' in text


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
