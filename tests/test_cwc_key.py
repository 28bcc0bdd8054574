"""The CWC key travels as the ``apikey`` query parameter, and never anywhere else: not in a
stored ``last_error`` or any other column, a log line, a metric, the console or the CLI."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask

from actionwave.accounts.services import create_user
from actionwave.core.models import Delivery
from actionwave.intake.submissions import parse_action_form, submit_action
from actionwave.platform.config import Settings
from actionwave.system.schema import metadata
from actionwave.system.services import Services
from tests.stubs.cwc import AGENT, cwc_stub
from tests.support import free_port, wait_for
from tests.test_console import PASSWORD, sign_in

KEY = f"cwc-live-{secrets.token_hex(12)}"


def submit(services: Services, campaign_slug: str, count: int) -> None:
    with services.session() as session:
        for _ in range(count):
            submit_action(session, campaign_slug, parse_action_form({
                "first_name": "Mei", "last_name": "Chan", "zip": "82001", "prefix": "Ms.",
                "email": f"mei-{uuid.uuid4().hex[:8]}@example.org", "address": "1 Main St",
                "city": "Cheyenne"}, cwc=True))


def cwc_rows(services: Services) -> list[Delivery]:
    with services.session() as session:
        return list(session.scalars(sa.select(Delivery).where(Delivery.channel == "cwc")))


def stored_texts(services: Services) -> list[str]:
    """Every value of every column of every table, as text."""
    texts = []
    with services.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                texts += [str(value) for value in row if value is not None]
    return texts


@pytest.mark.faults
def test_the_key_never_leaves_the_request(
    committed_db: Services, campaign_slug: str, settings: Settings, start_worker,  # type: ignore[no-untyped-def]
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest,
) -> None:
    quick = {"cwc_api_key": KEY, "office_messages_per_minute": 0, "cwc_requests_per_minute": 0,
             "log_level": "DEBUG", **AGENT}
    # CWC down: the connection is refused, and requests' error text holds the whole URL.
    down = replace(settings, cwc_api_url=f"http://127.0.0.1:{free_port()}/v2", **quick)
    worker = start_worker(down)
    submit(committed_db, campaign_slug, 3)
    wait_for(lambda: len(cwc_rows(committed_db)) == 3 and all(
        r.last_error for r in cwc_rows(committed_db)), message="CWC attempts to fail")
    worker.stop()
    with cwc_stub() as stub:
        # CWC up, answering with its own URL (key included) in an error, then a 5xx.
        stub.state["api_key"] = KEY
        stub.state["cwc_fail"] += ["echo_key", 503]
        up = replace(down, cwc_api_url=f"{stub.url}/v2")
        # With beat's sweep embedded, as production runs beat beside the workers: a retry that
        # comes due later than the run that failed it is picked up by the sweep.
        start_worker(up, args=("--beat",))
        submit(committed_db, campaign_slug, 3)

        seen: set[str] = set()  # every error stored on the way (a retry that succeeds clears it)

        def settled() -> bool:
            rows = cwc_rows(committed_db)
            seen.update(r.last_error for r in rows if r.last_error)
            return len(rows) == 6 and "sending" not in {r.state for r in rows} and any(
                "CWC 503" in e for e in seen) and len(stub.state["requests"]) >= 6
        wait_for(settled, timeout=60, message="CWC deliveries to be answered")
        assert any(KEY in path for path in stub.state["requests"])  # it did travel, there only
    errors = [*seen, *(r.last_error or "" for r in cwc_rows(committed_db))]
    assert any("apikey=[redacted]" in e for e in errors)  # CWC's echo of the URL, scrubbed
    assert any("CWC 503" in e for e in errors)
    texts = stored_texts(committed_db)
    assert texts and not [t for t in texts if KEY in t]
    logs = "".join(p.read_text() for p in tmp_path.glob("worker-*.log"))
    assert "apikey=[redacted]" in logs  # urllib3 logged the URL at DEBUG: redacted
    assert KEY not in logs

    from web import create_app

    web_services = Services(up)
    request.addfinalizer(web_services.close)
    app: Flask = create_app(up, web_services)
    client = app.test_client()
    with committed_db.session() as session:
        create_user(session, "organizer@example.org", PASSWORD, "organizer")
        create_user(session, "admin@example.org", PASSWORD, "admin")
    metrics = client.get("/metrics", headers={"Authorization": f"Bearer {up.metrics_token}"})
    assert metrics.status_code == 200 and KEY not in metrics.get_data(as_text=True)
    sign_in(client, "organizer")
    for state in ("failed", "dead", "sent", "pending"):
        page = client.get(f"/console/deliveries?state={state}")
        assert page.status_code == 200 and KEY not in page.get_data(as_text=True)

    from actionwave.cli import cli
    from actionwave.cli.delivery import deliveries

    cli.add_command(deliveries)
    for name, value in up.to_env().items():
        monkeypatch.setenv(name, value)
    for state in ("failed", "dead", "sent", "pending"):
        result = CliRunner().invoke(cli, ["deliveries", "list", "--state", state])
        assert result.exit_code == 0 and KEY not in result.output
