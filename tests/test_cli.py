"""The command line for people, on PostgreSQL and the embedded SQLite database: every command's
``--help`` gives an example; ``wave list``; ``deliveries list`` filtered by state, campaign,
legislator and time; office channels in bulk with a dry run."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from actionwave.campaigns.coverage_csv import BOM
from actionwave.cli import build_cli
from actionwave.core.models import Action, Campaign, Delivery, Supporter, Target
from actionwave.mail.consent import grant_consent
from actionwave.system.services import Services
from actionwave.waves.launch import create_wave
from tests.organizer_support import sqlite_services, store  # noqa: F401 (fixtures)

SLUG = "hketo-certification-act"


def commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))
        else:
            yield (*path, name)


def test_every_command_help_gives_an_example():
    tree = build_cli()
    paths = list(commands(tree))
    assert ("wave", "list") in paths and ("coverage", "import") in paths
    for path in paths:
        result = CliRunner().invoke(tree, [*path, "--help"], catch_exceptions=False)
        assert result.exit_code == 0, path
        example = result.output.split("Example", 1)[-1]
        assert "Example" in result.output and "actionwave " in example, " ".join(path)


@pytest.fixture
def run(store: Services, monkeypatch) -> Callable[..., Result]:  # noqa: F811
    for name, value in store.settings.to_env().items():
        monkeypatch.setenv(name, value)

    def invoke(*args: str, stdin: str | None = None) -> Result:
        return CliRunner().invoke(build_cli(), list(args), input=stdin, catch_exceptions=False)

    return invoke


def add_supporters(services: Services, count: int, state: str = "NJ") -> None:
    with services.session() as session:
        campaign_id = session.scalar(select(Campaign.id).where(Campaign.slug == SLUG))
        for n in range(count):
            supporter = Supporter(email=f"{uuid.uuid4().hex[:8]}@example.org", first_name="S",
                                  last_name=str(n), zip="08701", state=state)
            session.add(supporter)
            session.flush()
            grant_consent(session, supporter.id, campaign_id, source="import")
        session.commit()


def test_wave_list_shows_each_wave_its_trigger_and_progress(run, store):  # noqa: F811
    add_supporters(store, 3)
    with store.session() as session:
        campaign_id = session.scalar(select(Campaign.id).where(Campaign.slug == SLUG))
        create_wave(session, campaign_id, "Now", segment={})
        create_wave(session, campaign_id, "On the House vote", trigger="stage",
                    trigger_stage="passed_house")
        session.commit()
    launched = run("wave", "launch", "1")
    assert launched.exit_code == 0, launched.output
    assert '"total": 3' in launched.output
    listed = run("wave", "list", "--campaign", SLUG)
    lines = [line.split("\t") for line in listed.output.splitlines() if "\t" in line]
    assert [line[:4] for line in lines] == [
        ["2", SLUG, "scheduled", "on stage passed_house"], ["1", SLUG, "running", "by hand"]]
    assert lines[1][4] == "0/3 sent, 0 failed, 3 pending"
    assert "2 waves" in listed.output
    running = run("wave", "list", "--status", "running", "--json")
    assert running.output.count('"campaign": "hketo-certification-act"') == 1


def add_letters(services: Services) -> dict[str, int]:
    """A sent letter to Smith, a dead one to Booker (yesterday), a dead wave mail; their ids."""
    now = datetime.now(UTC)
    with services.session() as session:
        campaign_id = session.scalar(select(Campaign.id).where(Campaign.slug == SLUG))
        supporter = Supporter(email="d@example.org", first_name="D", last_name="L",
                              zip="08701")
        session.add(supporter)
        session.flush()
        action = Action(campaign_id=campaign_id, supporter_id=supporter.id, status="done",
                        idempotency_key="cli-list")
        session.add(action)
        session.flush()
        ids = {}
        for bioguide, state, when in (("S000522", "sent", now),
                                      ("B001288", "dead", now - timedelta(days=1))):
            target = Target(action_id=action.id, bioguide_id=bioguide, chamber="house",
                            state="NJ", name=bioguide)
            session.add(target)
            session.flush()
            row = Delivery(action_id=action.id, target_id=target.id, channel="email",
                           campaign_id=campaign_id,
                           recipient=f"{bioguide}@example.org", state=state, updated_at=when,
                           idempotency_key=f"email:{bioguide}", last_error="550 no such box"
                           if state == "dead" else None)
            session.add(row)
            session.flush()
            ids[bioguide] = row.id
        other = Delivery(supporter_id=supporter.id, channel="reminder_email", state="dead",
                         campaign_id=campaign_id,
                         recipient="d@example.org", idempotency_key="reminder:1")
        session.add(other)
        session.commit()
        ids["other"] = other.id
    return ids


def listed(result: Result) -> list[int]:
    return [int(line.split("\t")[0]) for line in result.output.splitlines() if "\t" in line]


def test_deliveries_list_filters_by_state_campaign_legislator_and_time(run, store):  # noqa: F811
    ids = add_letters(store)
    assert sorted(listed(run("deliveries", "list"))) == sorted(ids.values())
    assert listed(run("deliveries", "list", "--state", "dead")) == [ids["other"], ids["B001288"]]
    assert listed(run("deliveries", "list", "--campaign", SLUG)) == [ids["S000522"],
                                                                      ids["B001288"]]
    assert listed(run("deliveries", "list", "--legislator", "b001288")) == [ids["B001288"]]
    assert listed(run("deliveries", "list", "--campaign", SLUG, "--since", "6h")) == [
        ids["S000522"]]
    until = (datetime.now(UTC) - timedelta(hours=12)).isoformat(timespec="seconds")
    assert listed(run("deliveries", "list", "--until", until)) == [ids["B001288"]]
    bad = run("deliveries", "list", "--since", "yesterday")
    assert bad.exit_code == 2 and "a time ago (6h, 2d)" in bad.output
    assert run("deliveries", "list", "--campaign", "nope").exit_code == 1


def test_coverage_import_dry_run_then_apply_then_export(run, store, tmp_path: Path):  # noqa: F811
    good = tmp_path / "channels.csv"
    good.write_text(BOM + "bioguide_id,contact_form\nB001323,https://begich.house.gov/contact\n",
                    encoding="utf-8")
    dry = run("coverage", "import", str(good), "--dry-run")
    assert dry.exit_code == 0
    assert "B001323\tNicholas J. Begich III\tcontact_form: - -> https://begich.house.gov/" \
           "contact" in dry.output
    assert "1 rows, 1 changes (dry run: nothing was changed)" in dry.output
    applied = run("coverage", "import", str(good))
    assert "1 rows, 1 changes applied" in applied.output
    assert "1 rows, 0 changes applied" in run("coverage", "import", str(good)).output
    exported = run("coverage", "export")
    assert exported.output.startswith(BOM + "bioguide_id,cwc_office,contact_form,email,")
    assert "B001323,HAK00,https://begich.house.gov/contact,," in exported.output


def test_coverage_import_of_a_bad_file_names_each_line_and_changes_nothing(
        run, store, tmp_path: Path):  # noqa: F811
    bad = tmp_path / "bad.csv"
    bad.write_text("bioguide_id,email\nB001323,nope\nB001323,a@b.org\n", encoding="utf-8")
    result = run("coverage", "import", str(bad))
    assert result.exit_code == 1
    assert f"{bad}, line 2: email: nope: an email address such as" in result.output
    assert f"{bad}, line 3: bioguide_id: B001323 is also on line 2" in result.output
    assert "2 problems in 2 rows: nothing was changed." in result.output


def test_worker_refuses_an_unknown_queue_naming_the_option(run):
    result = run("worker", "--queues", "email,sms")
    assert result.exit_code == 2
    assert "--queues" in result.output and "unknown queue sms" in result.output


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with none of our tables, as a fresh server or a new instance folder has."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    from sqlalchemy import create_engine, text

    from tests.conftest import SERVER_URL

    name = f"aw_empty_{uuid.uuid4().hex[:8]}"
    server = create_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield SERVER_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        server.dispose()


def test_a_database_without_our_tables_gets_one_line_saying_what_to_run(
        empty_database: str, tmp_path: Path):
    env = {**os.environ, "DATABASE_URL": empty_database, "INSTANCE_PATH": str(tmp_path),
           "REDIS_URL": "redis://127.0.0.1:6379/0", "SECRET_KEY": "test"}
    run = subprocess.run([sys.executable, "-m", "actionwave", "wave", "list"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2, run.stderr
    assert "actionwave db upgrade" in run.stderr
    assert "Traceback" not in run.stderr
