"""JSON log lines with request and action ids; secret settings never reach the log."""

from __future__ import annotations

import http.client
import io
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from actionwave.platform.config import Settings, SettingsError
from actionwave.platform.logs import REDACTED, bound_action, configure_logging, secret_values
from tests.conftest import ROOT, SHARED_DATA
from tests.support import free_port, wait_for, web_processes
from tests.test_embedded import SETTINGS_VARS

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


def emitted(settings: Settings, records: list[tuple[str, int, str]]) -> list[str]:
    stream = io.StringIO()
    handler = configure_logging(settings, stream)
    try:
        for name, level, message in records:
            logging.getLogger(name).log(level, message)
    finally:
        root = logging.getLogger()
        root.removeHandler(handler)
        root.removeHandler(configure_logging(settings, io.StringIO()))  # the session's levels
    return stream.getvalue().splitlines()


CELERY_CHATTER = [("celery.app.trace", logging.INFO, "Task deliver_due succeeded in 0.01s: 0"),
                  ("celery.beat", logging.INFO, "Scheduler: Sending due task sweep"),
                  ("celery.worker.strategy", logging.INFO, "Task deliver_due received"),
                  ("kombu.connection", logging.INFO, "chatter")]
STATE_CHANGES = [("celery.apps.worker", logging.INFO, "celery@host ready."),
                 ("tasks.waves", logging.INFO, "wave 3 started: its time came"),
                 ("celery.app.trace", logging.ERROR, "Task deliver_due raised: boom")]


def test_celery_chatter_stays_below_warning_while_changes_of_state_show(settings: Settings):
    quiet = replace(settings, celery_log_level="WARNING")
    lines = [json.loads(line)["message"] for line in emitted(quiet,
                                                             CELERY_CHATTER + STATE_CHANGES)]
    assert lines == ["celery@host ready.", "wave 3 started: its time came",
                     "Task deliver_due raised: boom"]
    chatty = replace(settings, celery_log_level="INFO")
    assert len(emitted(chatty, CELERY_CHATTER + STATE_CHANGES)) == 7


def test_log_level_is_the_floor_for_every_logger(settings: Settings):
    lines = emitted(replace(settings, log_level="ERROR", celery_log_level="INFO"),
                    CELERY_CHATTER + STATE_CHANGES)
    assert [json.loads(line)["message"] for line in lines] == ["Task deliver_due raised: boom"]


def test_text_format_is_one_readable_line_with_the_ids(settings: Settings):
    stream = io.StringIO()
    handler = configure_logging(replace(settings, log_format="text",
                                        secret_key="s3cret-key-value"), stream)
    try:
        with bound_action("a-9"):
            logging.getLogger("web.telemetry").info("intake accepted (202) s3cret-key-value")
    finally:
        logging.getLogger().removeHandler(handler)
    [line] = stream.getvalue().splitlines()
    assert re.fullmatch(r"\d\d:\d\d:\d\d INFO    web\.telemetry: intake accepted \(202\) "
                        r"\[redacted\]  action_id=a-9", line), line


def test_log_format_is_checked(settings: Settings):
    with pytest.raises(SettingsError, match="LOG_FORMAT"):
        Settings.from_env({"LOG_FORMAT": "xml"})


def test_up_logs_readable_lines_without_celery_chatter(tmp_path: Path):
    """`actionwave up` as `make run` runs it: in 20 s of beat ticks and a page served, every
    log line is text, with no line per task or per beat send."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in (*SETTINGS_VARS, "LOG_FORMAT")}
    env.update(INSTANCE_PATH=str(tmp_path / "instance"), DATA_SOURCE=str(SHARED_DATA))
    log = tmp_path / "up.log"
    with log.open("wb") as out:
        up = subprocess.Popen([sys.executable, "-m", "actionwave", "up", "--port", str(port)],
                              cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: "is running at" in log.read_text(), timeout=90)
            urllib.request.urlopen(f"http://127.0.0.1:{port}/c/hketo-certification-act",
                                   timeout=10).read()
            time.sleep(20)
        finally:
            up.send_signal(signal.SIGTERM)
            up.wait(timeout=30)
    text = log.read_text()
    logged = [line for line in text.splitlines() if re.match(r"\d\d:\d\d:\d\d [A-Z]+ ", line)]
    assert any("celery@" in line and "ready." in line for line in logged)
    assert any("gunicorn.access: GET /c/hketo-certification-act 200" in line for line in logged)
    assert "Sending due task" not in text and "succeeded in" not in text
    assert "received" not in text and not any(line.startswith("{") for line in text.splitlines())
