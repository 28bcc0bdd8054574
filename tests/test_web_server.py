"""`actionwave web` as production runs it (gunicorn, gevent workers, group commit) on PostgreSQL."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from actionwave.core.models import Action, OutboxMessage
from actionwave.platform.config import Settings
from actionwave.system.services import Services
from tests.support import free_port, wait_for

ROOT = Path(__file__).resolve().parents[1]
SUBMISSIONS = 200


@pytest.fixture
def web_server(settings: Settings, tmp_path: Path) -> Iterator[str]:
    """``actionwave web`` with one gunicorn process; yields its base URL."""
    port = free_port()
    env = {**os.environ, **settings.to_env(), "METRICS_ALLOWED_IPS": "127.0.0.1",
           "RATE_LIMIT_PER_IP": "", "RATE_LIMIT_PER_EMAIL": ""}  # one client sends everything
    with (tmp_path / "web.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "actionwave", "web", "--port", str(port), "--workers", "1"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for(lambda: _answers(f"{base}/healthz"), message="actionwave web did not start")
            yield base
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


def submit(url: str, n: int) -> tuple[int, str]:
    body = json.dumps({"email": f"gunicorn{n}@example.org", "first_name": "Green",
                       "last_name": f"Let {n}", "zip": "82001"}).encode()
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.load(response)["id"]


def test_concurrent_submissions_are_each_stored_once_in_shared_commits(
        web_server: str, campaign_slug: str, committed_db: Services):
    url = f"{web_server}/api/v1/campaigns/{campaign_slug}/actions"
    with ThreadPoolExecutor(32) as pool:
        answers = list(pool.map(lambda n: submit(url, n), range(SUBMISSIONS)))

    assert [status for status, _ in answers] == [202] * SUBMISSIONS
    assert len({action_id for _, action_id in answers}) == SUBMISSIONS
    with committed_db.session() as session:
        assert session.scalar(select(func.count()).select_from(Action)) == SUBMISSIONS
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == SUBMISSIONS
    with urllib.request.urlopen(f"{web_server}/metrics", timeout=10) as response:
        metrics = response.read().decode()
    rows = float(re.search(r"^actionwave_intake_batch_rows_sum (\S+)$", metrics, re.M)[1])
    commits = float(re.search(r"^actionwave_intake_batch_rows_count (\S+)$", metrics, re.M)[1])
    assert rows == SUBMISSIONS
    assert commits < SUBMISSIONS  # concurrent submissions shared statements and commits
