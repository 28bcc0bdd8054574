"""The ``actionwave`` command line: a door, like ``web``, ``tasks`` and ``workers``.

Owns every command: the root group and ``example`` are here, each feature area's command group
is a module beside it, added in ``build_cli``. A command parses its options, calls the domain and
prints; it may import anything below it (the running system, the domain, the platform, and the
``workers`` and ``schedules`` it starts), and nothing imports it but ``actionwave.__main__``.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import click
from sqlalchemy.exc import DBAPIError

from actionwave.platform.config import Settings, SettingsError

DEFAULT_CAMPAIGN = Path("campaigns/hketo-certification-act.yaml")


def example(*commands: str) -> str:
    """A command's ``epilog``: examples shown by ``--help`` as written, never re-wrapped."""
    return "\b\n" + ("Example:" if len(commands) == 1 else "Examples:") + "".join(
        f"\n  {command}" for command in commands)


@click.group(epilog=example("actionwave up --port 8080", "actionwave wave list",
                            "actionwave COMMAND --help"))
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Actionwave: advocacy campaigns that move with a bill in the U.S. Congress.

    Every setting is an environment variable (see the README's settings table); with none set,
    it runs on the embedded default: SQLite and mail as files under ./instance.
    """
    try:
        ctx.obj = Settings.from_env()
    except SettingsError as exc:  # refuse to start, naming the setting
        raise click.ClickException(str(exc)) from exc


def refuse_unsafe(settings: Settings, process: str) -> None:
    """Stop before serving (and before any supervisor would restart it) when ``process`` would
    fall back to per-process limits or beat locks."""
    try:
        settings.require_redis(process)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


@cli.group(epilog=example("actionwave db upgrade"))
def db() -> None:
    """Database schema."""


@db.command("upgrade", epilog=example("actionwave db upgrade",
                                      "DATABASE_URL=postgresql+psycopg://app@db/actionwave "
                                      "actionwave db upgrade"))
@click.pass_obj
def db_upgrade(settings: Settings) -> None:
    """Apply every migration."""
    from actionwave.platform.migrate import upgrade

    upgrade(settings.database_url)
    click.echo("database is up to date")


@cli.group(epilog=example("actionwave campaign load campaigns/hketo-certification-act.yaml"))
def campaign() -> None:
    """Campaign files."""


@campaign.command("load", epilog=example(
    "actionwave campaign load campaigns/hketo-certification-act.yaml"))
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True,
              help="Replace an existing campaign's copy and templates with the file's, after"
                   " showing the difference (its status is kept).")
@click.option("--yes", is_flag=True, help="With --force: replace without asking.")
@click.pass_obj
def campaign_load(settings: Settings, path: Path, force: bool, yes: bool) -> None:
    """Seed a campaign from its YAML file; an existing one is left as organizers edited it."""
    from actionwave.campaigns.files import CampaignFileError, campaign_diff, load_campaign
    from actionwave.system.services import Services

    with Services(settings) as services:
        try:
            with services.session() as session:
                diff = campaign_diff(session, path)
                if diff is None:
                    loaded = load_campaign(session, path)
                    click.echo(f"seeded campaign '{loaded.slug}' "
                               f"({len(loaded.templates)} templates)")
                elif not force:
                    click.echo(f"campaign from {path} already exists: left as organizers edited it"
                               + (" (the file differs: --force shows how and replaces)" if diff
                                  else ""))
                elif not diff:
                    click.echo("the campaign already matches the file: nothing to change")
                else:
                    click.echo(diff, nl=False)
                    if yes or click.confirm("Replace the campaign's copy and templates with the"
                                            " file's (its status is kept)?"):
                        loaded = load_campaign(session, path, force=True)
                        click.echo(f"replaced campaign '{loaded.slug}' from {path}")
                    else:
                        click.echo("nothing changed")
        except CampaignFileError as exc:
            raise click.ClickException(str(exc)) from exc


@cli.command(epilog=example("actionwave up",
                            "DATA_SOURCE=../shared/data actionwave up --port 8080"))
@click.option("--port", default=5000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.pass_obj
def up(settings: Settings, port: int, host: str) -> None:
    """Migrate, load the example campaign, and run web, worker and beat together."""
    from actionwave.cli.runner import run_all

    sys.exit(run_all(settings, host=host, port=port, campaign_file=DEFAULT_CAMPAIGN))


@cli.command(epilog=example("actionwave web --host 0.0.0.0 --port 8000 --workers 4"))
@click.option("--port", default=5000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--workers", default=2, show_default=True, help="gunicorn worker processes")
@click.pass_obj
def web(settings: Settings, port: int, host: str, workers: int) -> None:
    """Serve the web app with gunicorn (production)."""
    from actionwave.cli.runner import exec_gunicorn

    refuse_unsafe(settings, "web")
    exec_gunicorn(host, port, workers)


@cli.command(context_settings={"ignore_unknown_options": True},
             epilog=example("actionwave worker", "actionwave worker --concurrency 8",
                            "actionwave worker --queues email,wave_email --concurrency 8"))
@click.option("--queues", help="comma-separated delivery channels (email, wave_email,"
              " reminder_email, cwc) and `default` (every other task) to consume  [default: all]")
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def worker(settings: Settings, queues: str | None, celery_args: tuple[str, ...]) -> None:
    """Run a Celery worker (extra arguments go to Celery); compose or systemd restarts it if it
    dies. Each delivery channel has its own queue, so a worker with `--queues` and
    `--concurrency N` sends at most N batches of those channels at once. Refuses to start while
    CWC is configured with delivery agent settings CWC would refuse."""
    from actionwave.cwc.agent import AgentSettingsError, check_agent_settings
    from workers import create_celery, queue_names

    try:
        names = queue_names(settings.namespace,
                            [q.strip() for q in queues.split(",") if q.strip()] if queues else None)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--queues") from None

    refuse_unsafe(settings, "worker")
    try:
        check_agent_settings(settings)
    except AgentSettingsError as exc:
        raise click.ClickException(f"CWC is configured, but CWC would refuse every message: "
                                   f"{exc}") from None
    if settings.worker_nice > 0:
        os.nice(settings.worker_nice)
    # --quiet: no banner (the log says when the worker is connected and ready).
    create_celery(settings).worker_main(
        ["--quiet", "worker", "--loglevel", settings.log_level, "-Q", ",".join(names),
         *celery_args])


@cli.command(context_settings={"ignore_unknown_options": True},
             epilog=example("actionwave beat"))
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def beat(settings: Settings, celery_args: tuple[str, ...]) -> None:
    """Run the Celery beat scheduler (extra arguments go to Celery); compose or systemd restarts
    it if it dies."""
    from workers import create_celery

    refuse_unsafe(settings, "beat")
    schedule = settings.instance_path / "celerybeat-schedule"
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    create_celery(settings).start(
        ["--quiet", "beat", "--loglevel", settings.log_level, "--schedule", str(schedule),
         *celery_args]
    )


@cli.command(epilog=example("actionwave doctor", "actionwave doctor --json --timeout 2"))
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
@click.option("--timeout", default=3.0, show_default=True, help="seconds per provider call")
@click.pass_obj
def doctor(settings: Settings, as_json: bool, timeout: float) -> None:
    """What each channel will actually do with today's configuration; exits 1 when a configured
    provider (or the database) fails."""
    import json

    from actionwave.system.doctor import diagnose, render

    report = diagnose(settings, timeout)
    click.echo(json.dumps(report.as_dict(), indent=2) if as_json else render(report))
    sys.exit(0 if report.healthy else 1)


@cli.group(epilog=example("actionwave coverage export -o channels.csv",
                            "actionwave coverage import channels.csv --dry-run"))
def coverage() -> None:
    """Office channels in bulk: CWC office codes, contact forms and emails, as CSV."""


@coverage.command("import", epilog=example("actionwave coverage import channels.csv --dry-run",
                                           "actionwave coverage import channels.csv"))
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="show the changes and the bad rows; change nothing")
@click.pass_obj
def coverage_import(settings: Settings, path: Path, dry_run: bool) -> None:
    """Apply a CSV of office channels (bioguide_id, cwc_office, contact_form, email): every row,
    or nothing when any row is bad. An empty cell leaves that channel as it is."""
    from actionwave.campaigns.coverage_csv import CoverageImportError, apply_import, plan_import
    from actionwave.system.services import Services

    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    with Services(settings) as services:
        try:
            with services.session() as session:
                plan = plan_import(session, text)
                for change in plan.changes:
                    click.echo(f"{change.bioguide_id}\t{change.name}\t{change.field}: "
                               f"{change.before or '-'} -> {change.after}")
                if plan.errors:
                    raise click.ClickException(
                        "\n".join(f"{path}, {error}" for error in plan.errors)
                        + f"\n{len(plan.errors)} problems in {len({e.line for e in plan.errors})} "
                        "rows: nothing was changed.")
                if dry_run:
                    click.echo(f"{plan.rows} rows, {len(plan.changes)} changes (dry run: nothing "
                               "was changed)")
                    return
                with click.progressbar(length=len(plan.changes), label="Applying changes",
                                       file=sys.stderr, hidden=not plan.changes) as bar:
                    applied = apply_import(session, text, plan.fingerprint, on_change=bar.update)
                click.echo(f"{applied.rows} rows, {len(applied.changes)} changes applied")
        except CoverageImportError as exc:
            raise click.ClickException(f"{exc}\nNothing was changed.") from exc


@coverage.command("export", epilog=example("actionwave coverage export -o channels.csv"))
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-",
              show_default=True, help="file to write (- for standard output)")
@click.pass_obj
def coverage_export(settings: Settings, output: click.utils.LazyFile) -> None:
    """Write every sitting legislator's channels in use today as CSV (UTF-8 with a byte-order
    mark, for Excel), in the format `coverage import` reads."""
    from actionwave.campaigns.coverage_csv import export_channels
    from actionwave.system.services import Services

    with Services(settings) as services, services.session() as session:
        output.write(export_channels(session))


@cli.command(epilog=example("actionwave health worker", "actionwave health beat"))
@click.argument("process", type=click.Choice(["worker", "beat"]))
@click.option("--node", help="the worker's node name (default: worker@this host, as compose"
                             " names it)")
@click.pass_obj
def health(settings: Settings, process: str, node: str | None) -> None:
    """Exit 0 when this host's worker answers a ping, or its beat ticked lately (healthchecks)."""
    import socket

    if process == "beat":
        from schedules.lock import beat_alive

        alive = beat_alive(settings.instance_path)
    else:
        from workers import create_celery

        app = create_celery(settings)
        try:
            alive = bool(app.control.ping(
                destination=[node or f"worker@{socket.gethostname()}"], timeout=5))
        finally:
            app.close()
    click.echo(f"{process}: {'alive' if alive else 'not answering'}")
    sys.exit(0 if alive else 1)


def build_cli() -> click.Group:
    """The whole command tree: feature areas add their command groups here."""
    from actionwave.cli.accounts import user
    from actionwave.cli.bill import bill
    from actionwave.cli.delivery import deliveries
    from actionwave.cli.legislators import data, lookup
    from actionwave.cli.waves import wave

    cli.add_command(bill)
    cli.add_command(deliveries)
    cli.add_command(data)
    cli.add_command(lookup)
    cli.add_command(user)
    cli.add_command(wave)
    return cli


# What SQLite and PostgreSQL say when a table is missing: the schema was never applied.
MISSING_TABLE = re.compile(r"no such table|relation \"[^\"]+\" does not exist|UndefinedTable")


def main() -> None:
    """The ``actionwave`` command. A database without our tables gets one line saying what to
    run, not a traceback: it is the first thing a newcomer or an operator of a fresh database
    meets."""
    try:
        build_cli()()
    except DBAPIError as exc:
        if not MISSING_TABLE.search(str(exc.orig)):
            raise
        click.echo("Error: the database has no Actionwave tables yet; apply the schema with "
                   "'actionwave db upgrade' (DATABASE_URL says which database).", err=True)
        sys.exit(2)
