"""JSON log lines with request and action ids; secret settings never reach the log."""

from __future__ import annotations

import http.client
import io
import json
import logging
from dataclasses import replace

from actionwave.config import Settings
from actionwave.logs import REDACTED, bound_action, configure_logging, secret_values
from tests.support import wait_for, web_processes

SECRETS = {"secret_key": "s3cret-key-value", "sendgrid_api_key": "SG.abcdefghijkl",
           "x_access_token_secret": "x-secret-123", "cwc_api_key": "cwc-key-xyz"}


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_every_secret_setting_is_redacted_from_messages_args_and_tracebacks(settings: Settings):
    secret_settings = replace(settings, **SECRETS)
    stream = io.StringIO()
    handler = configure_logging(secret_settings, stream)
    log = logging.getLogger("test.secrets")
    try:
        log.warning("key is %s", secret_settings.sendgrid_api_key)
        log.info(f"settings: {secret_settings.to_env()}")
        try:
            raise RuntimeError(f"bad token {secret_settings.x_access_token_secret}")
        except RuntimeError:
            log.exception("failed")
    finally:
        logging.getLogger().removeHandler(handler)
    text = stream.getvalue()
    for value in SECRETS.values():
        assert value not in text
    assert REDACTED in lines(stream)[0]["message"]
    assert "RuntimeError: bad token [redacted]" in lines(stream)[2]["exception"]


def test_secret_values_are_the_fields_hidden_from_repr(settings: Settings):
    values = secret_values(replace(settings, **SECRETS))
    assert set(SECRETS.values()) <= set(values)
    assert settings.database_url not in values


def test_log_lines_carry_the_action_id_bound_around_them(settings: Settings):
    stream = io.StringIO()
    handler = configure_logging(settings, stream)
    try:
        with bound_action("a-1"):
            logging.getLogger("test.ids").info("resolving")
        logging.getLogger("test.ids").info("after")
    finally:
        logging.getLogger().removeHandler(handler)
    first, after = lines(stream)
    assert first["action_id"] == "a-1" and first["message"] == "resolving"
    assert "action_id" not in after and first["level"] == "INFO"


def test_requests_log_their_request_id_and_the_accepted_action_id(
        app, client, campaign_slug, committed_db):
    stream = io.StringIO()
    handler = configure_logging(app.extensions["actionwave"].settings, stream)
    try:
        response = client.post(f"/api/v1/campaigns/{campaign_slug}/actions",
                               headers={"X-Request-ID": "req-abc.123"},
                               json={"email": "ids@example.org", "first_name": "Kit",
                                     "last_name": "Wong", "zip": "60601"})
    finally:
        logging.getLogger().removeHandler(handler)
    assert response.headers["X-Request-ID"] == "req-abc.123"
    intake = [line for line in lines(stream) if line["logger"] == "web.telemetry"]
    assert intake[-1]["request_id"] == "req-abc.123"
    assert intake[-1]["action_id"] == response.get_json()["id"]


def test_a_request_id_that_is_not_an_id_is_replaced(client):
    response = client.get("/healthz", headers={"X-Request-ID": "x\" injected=1 " + "y" * 300})
    assert len(response.headers["X-Request-ID"]) == 32
    generated = client.get("/healthz").headers["X-Request-ID"]
    assert generated != response.headers["X-Request-ID"]


def test_the_web_server_logs_only_json_with_an_access_line_per_request(settings: Settings,
                                                                       tmp_path):
    """gunicorn's own records and its access lines are JSON too; an access line has the request
    id, never the client's address nor the query string (an unsubscribe token lives there)."""
    with web_processes(settings, tmp_path / "web.log", workers=1) as (port, _master):
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        client.request("GET", "/unsubscribe?token=s3cr3t-token", headers={"X-Request-ID": "r-42"})
        client.getresponse().read()
        client.close()
        wait_for(lambda: "r-42" in (tmp_path / "web.log").read_text(), timeout=10)
    lines = (tmp_path / "web.log").read_text().splitlines()
    entries = [json.loads(line) for line in lines]  # every line is JSON
    assert any(e["logger"] == "gunicorn.error" and "Booting worker" in e["message"]
               for e in entries)
    [access] = [e for e in entries if e.get("request_id") == "r-42"
                and e["logger"] == "gunicorn.access"]
    assert access["method"] == "GET" and access["path"] == "/unsubscribe"
    assert isinstance(access["status"], int) and access["duration_ms"] >= 0
    assert "s3cr3t-token" not in "\n".join(lines)
    assert "127.0.0.1" not in access["message"] and "remote" not in str(access)
