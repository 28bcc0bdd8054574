"""``actionwave deliveries``: list dead deliveries, retry them, read the in-doubt report."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select, update

from actionwave.core.models import Delivery
from actionwave.platform.config import Settings
from actionwave.system.services import Services
from tests.delivery_support import add_mail_deliveries, states_of


@pytest.fixture
def run(settings: Settings, monkeypatch):  # type: ignore[no-untyped-def]
    from actionwave.cli import cli
    from actionwave.cli.delivery import deliveries

    cli.add_command(deliveries)
    for name, value in settings.to_env().items():
        monkeypatch.setenv(name, value)

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(cli, ["deliveries", *args], catch_exceptions=False)

    return invoke


def make_dead(services: Services, campaign_slug: str, count: int) -> list[str]:
    with services.session() as session:
        keys = add_mail_deliveries(session, campaign_slug, count)
        session.execute(update(Delivery).where(Delivery.idempotency_key.in_(keys))
                        .values(state="dead", attempts=8, last_error="SendGrid 500: oops"))
        session.commit()
    return keys


def test_list_shows_dead_deliveries_with_the_last_error(  # type: ignore[no-untyped-def]
    run, committed_db: Services, campaign_slug: str
) -> None:
    make_dead(committed_db, campaign_slug, 2)
    result = run("list", "--state", "dead")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "\t" in line]
    assert len(lines) == 2
    assert all("\temail\t" in line and "SendGrid 500: oops" in line for line in lines)


def test_retry_by_id_moves_only_those_back_to_pending(  # type: ignore[no-untyped-def]
    run, committed_db: Services, campaign_slug: str
) -> None:
    keys = make_dead(committed_db, campaign_slug, 2)
    with committed_db.session() as session:
        first_id = session.scalar(select(Delivery.id).where(Delivery.idempotency_key == keys[0]))
    result = run("retry", str(first_id))
    assert "1 dead deliveries back to pending" in result.output
    with committed_db.session() as session:
        assert states_of(session, keys) == {keys[0]: "pending", keys[1]: "dead"}


def test_retry_all_dead_and_refuses_ambiguous_input(  # type: ignore[no-untyped-def]
    run, committed_db: Services, campaign_slug: str
) -> None:
    keys = make_dead(committed_db, campaign_slug, 3)
    assert run("retry").exit_code == 2
    assert run("retry", "1", "--all-dead").exit_code == 2
    assert "3 dead deliveries back to pending" in run("retry", "--all-dead").output
    with committed_db.session() as session:
        assert set(states_of(session, keys).values()) == {"pending"}


def test_in_doubt_prints_the_report_as_json(run, committed_db: Services) -> None:  # type: ignore[no-untyped-def]
    report = json.loads(run("in-doubt").output)
    assert set(report) == {"in_doubt", "in_doubt_sent", "in_doubt_resent", "in_doubt_unknown",
                           "still_in_doubt"}
