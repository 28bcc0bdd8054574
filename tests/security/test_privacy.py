"""Findings: an erased supporter's idempotency key was an unsalted sha256(slug|email|day), so the
email could be recovered by guessing; unsubscribe tokens were written to the access logs
(gunicorn's and nginx's)."""

from __future__ import annotations

import hashlib
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from actionwave.campaigns.supporters import erase_supporter
from actionwave.core.models import Action
from actionwave.intake.submissions import parse_action_form, submit_action
from tests.organizer_support import sqlite_services, store  # noqa: F401

SLUG = "hketo-certification-act"
EMAIL = "mei@example.org"
FORM = {"email": EMAIL, "first_name": "Mei", "last_name": "Chan", "zip": "82001"}


def _guesses(day: datetime) -> set[str]:
    raw = f"{SLUG}|{EMAIL}|{day.astimezone(UTC).date().isoformat()}"
    return {hashlib.sha256(raw.encode()).hexdigest(), hashlib.sha256(raw.encode()).hexdigest()[:32]}


def test_a_stored_idempotency_key_cannot_be_matched_by_guessing_the_email(store):  # noqa: F811
    now = datetime.now(UTC)
    with store.session() as session:
        submitted = submit_action(session, SLUG, parse_action_form(FORM), now=now,
                                  secret=store.settings.secret_key)
        key = session.scalar(select(Action.idempotency_key).where(
            Action.id == submitted.action_id))
        assert key not in _guesses(now)
        again = submit_action(session, SLUG, parse_action_form(FORM), now=now,
                              secret=store.settings.secret_key)
        assert again.action_id == submitted.action_id  # still idempotent
        erase_supporter(session, session.scalar(select(Action.supporter_id).where(
            Action.id == submitted.action_id)))
        erased = session.scalar(select(Action.idempotency_key).where(
            Action.id == submitted.action_id))
    assert erased.startswith("erased:") and EMAIL not in erased


@pytest.mark.timeout(120)
def test_unsubscribe_tokens_never_reach_the_access_logs(settings, campaign_slug, committed_db,
                                                       tmp_path):
    from actionwave.mail.unsubscribe import unsubscribe_token
    from bench.harness import nginx_proxy
    from tests.support import web_processes

    token = unsubscribe_token(settings, 424242, 1)
    log = tmp_path / "web.log"
    access = tmp_path / "nginx-access.log"
    with web_processes(settings, log, workers=1) as (port, _master), \
            nginx_proxy(f"http://127.0.0.1:{port}", log_to=str(access)) as proxy:
        for base in (f"http://127.0.0.1:{port}", proxy):
            try:
                urllib.request.urlopen(f"{base}/u/{token}?x=1", timeout=10)
            except urllib.error.HTTPError as exc:
                assert exc.code == 404  # no such supporter here: the line is what matters
        time.sleep(0.5)  # gunicorn writes its access line after the answer
    lines = log.read_text() + access.read_text()
    assert token not in lines
    assert lines.count("/u/<token>") >= 2
