"""The embedded default: `actionwave up` with nothing configured (SQLite db and SQLite broker)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.conftest import ROOT, SHARED_DATA
from tests.support import free_port, wait_for

SETTINGS_VARS = ("DATABASE_URL", "BROKER_URL", "REDIS_URL", "SENDGRID_API_KEY", "NAMESPACE")


def http_json(url: str, payload: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, json.loads(response.read())


def processes_using(marker: str) -> list[int]:
    """Pids of live processes whose environment mentions ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_up_serves_the_page_processes_a_submission_and_stops_cleanly(tmp_path: Path):
    port = free_port()
    instance = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARS}
    env["INSTANCE_PATH"] = str(instance)
    env["DATA_SOURCE"] = str(SHARED_DATA)
    up = subprocess.Popen([sys.executable, "-m", "actionwave", "up", "--port", str(port)],
                          cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        line = wait_for(lambda: up.stdout.readline().decode(), timeout=60)
        while "running at" not in line:
            assert up.poll() is None, "actionwave up exited early"
            line = up.stdout.readline().decode()
        assert base in line
        with urllib.request.urlopen(f"{base}/c/hketo-certification-act", timeout=5) as page:
            assert page.status == 200 and "H.R. 2661" in page.read().decode()
        status, body = http_json(f"{base}/api/v1/campaigns/hketo-certification-act/actions",
                                 {"email": "e@example.org", "first_name": "E",
                                  "last_name": "Mbed", "zip": "82001"})
        assert status == 202
        wait_for(lambda: http_json(base + body["status_url"])[1]["status"] != "accepted",
                 timeout=60, message="the embedded worker to process the action")
        assert (instance / "actionwave.db").exists() and (instance / "broker.db").exists()
    finally:
        up.send_signal(signal.SIGTERM)
        up.wait(timeout=30)
        up.stdout.close()
    time.sleep(0.5)
    assert processes_using(str(instance)) == []


def test_children_stop_when_up_itself_is_killed(tmp_path: Path):
    port = free_port()
    instance = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARS}
    env["INSTANCE_PATH"] = str(instance)
    env["DATA_SOURCE"] = str(instance / "missing")  # no data: up must still start and stop
    up = subprocess.Popen([sys.executable, "-m", "actionwave", "up", "--port", str(port)],
                          cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: len(processes_using(str(instance))) >= 4, timeout=60,
             message="up and its three children to start")
    up.kill()
    up.wait(timeout=10)
    wait_for(lambda: processes_using(str(instance)) == [], timeout=30,
             message="the children to stop after their parent was killed")


def test_up_takes_the_form_without_javascript_at_once(tmp_path: Path):
    """The no-JavaScript form, posted to ``actionwave up`` with its session cookie and CSRF
    token, is stored and answered with the thanks page in well under SQLite's busy timeout."""
    import http.cookiejar
    import re
    import urllib.parse

    port = free_port()
    instance = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARS}
    env.update(INSTANCE_PATH=str(instance), DATA_SOURCE=str(SHARED_DATA))
    up = subprocess.Popen([sys.executable, "-m", "actionwave", "up", "--port", str(port)],
                          cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    try:
        wait_for(lambda: _answers(f"{base}/healthz"), timeout=90, message="actionwave up")
        slug = "hketo-certification-act"
        with opener.open(f"{base}/c/{slug}", timeout=5) as response:
            token = re.search(r'name="csrf_token" value="([^"]+)"', response.read().decode())
        assert token
        form = urllib.parse.urlencode({
            "csrf_token": token.group(1), "first_name": "Mei", "last_name": "Chan",
            "email": "form@example.org", "zip": "82001", "locale": "en",
            "message": "Typed on the embedded default."}).encode()
        started = time.monotonic()
        with opener.open(f"{base}/c/{slug}/act", data=form, timeout=10) as response:
            assert response.status == 200 and "/thanks?action=" in response.url
        assert time.monotonic() - started < 5
        action = urllib.parse.parse_qs(urllib.parse.urlsplit(response.url).query)["action"][0]
        wait_for(lambda: http_json(f"{base}/api/v1/actions/{action}")[1]["status"] != "accepted",
                 timeout=60, message="the embedded worker to process the form's action")
        # The confirmation's links follow the port served (PUBLIC_URL unset), and carry the
        # message with the phones to call.
        mail = wait_for(lambda: next(iter((instance / "outbox").glob("*.eml")), None),
                        timeout=60, message="the confirmation in instance/outbox")
        text = mail.read_text()
        assert f"http://127.0.0.1:{port}/u/" in text and ":5000/" not in text
        assert "Typed on the embedded default." in text
        # The supporter's state, derived from the ZIP when the action was resolved, is stored.
        with sqlite3.connect(instance / "actionwave.db") as db:
            assert db.execute("SELECT state FROM supporters WHERE email = 'form@example.org'"
                              ).fetchone() == ("WY",)
    finally:
        up.send_signal(signal.SIGTERM)
        up.wait(timeout=30)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False
