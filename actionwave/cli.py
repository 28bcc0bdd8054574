"""The ``actionwave`` command line. Feature areas add their command groups in ``main``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from actionwave.config import Settings

DEFAULT_CAMPAIGN = Path("campaigns/hketo-certification-act.yaml")


@click.group()
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Actionwave: advocacy campaigns that move with a bill in the U.S. Congress."""
    ctx.obj = Settings.from_env()


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(settings: Settings) -> None:
    """Apply every migration."""
    from actionwave.migrate import upgrade

    upgrade(settings.database_url)
    click.echo("database is up to date")


@cli.group()
def campaign() -> None:
    """Campaign files."""


@campaign.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def campaign_load(settings: Settings, path: Path) -> None:
    """Create or update a campaign from its YAML file."""
    from actionwave.campaigns import CampaignFileError, load_campaign
    from actionwave.services import Services

    services = Services(settings)
    try:
        with services.session() as session:
            loaded = load_campaign(session, path)
            click.echo(f"loaded campaign '{loaded.slug}' ({len(loaded.templates)} templates)")
    except CampaignFileError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        services.close()


@cli.command()
@click.option("--port", default=5000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.pass_obj
def up(settings: Settings, port: int, host: str) -> None:
    """Migrate, load the example campaign, and run web, worker and beat together."""
    from actionwave.runner import run_all

    sys.exit(run_all(settings, host=host, port=port, campaign_file=DEFAULT_CAMPAIGN))


@cli.command()
@click.option("--port", default=5000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--workers", default=2, show_default=True, help="gunicorn worker processes")
def web(port: int, host: str, workers: int) -> None:
    """Serve the web app with gunicorn (production)."""
    from actionwave.runner import exec_gunicorn

    exec_gunicorn(host, port, workers)


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def worker(settings: Settings, celery_args: tuple[str, ...]) -> None:
    """Run a Celery worker, restarted if it dies (extra arguments go to Celery). Refuses to start
    while CWC is configured with delivery agent settings CWC would refuse."""
    from actionwave.cwc.agent import AgentSettingsError, check_agent_settings
    from actionwave.runner import is_supervised_child, supervise
    from workers import create_celery

    try:
        check_agent_settings(settings)
    except AgentSettingsError as exc:
        raise click.ClickException(f"CWC is configured, but CWC would refuse every message: "
                                   f"{exc}") from None
    if not is_supervised_child():
        sys.exit(supervise([sys.executable, "-m", "actionwave", "worker", *celery_args], "worker"))
    if settings.worker_nice > 0:
        os.nice(settings.worker_nice)
    create_celery(settings).worker_main(["worker", "--loglevel", settings.log_level, *celery_args])


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def beat(settings: Settings, celery_args: tuple[str, ...]) -> None:
    """Run the Celery beat scheduler, restarted if it dies (extra arguments go to Celery)."""
    from actionwave.runner import is_supervised_child, supervise
    from workers import create_celery

    if not is_supervised_child():
        sys.exit(supervise([sys.executable, "-m", "actionwave", "beat", *celery_args], "beat"))
    schedule = settings.instance_path / "celerybeat-schedule"
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    create_celery(settings).start(
        ["beat", "--loglevel", settings.log_level, "--schedule", str(schedule), *celery_args]
    )


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
@click.option("--timeout", default=3.0, show_default=True, help="seconds per provider call")
@click.pass_obj
def doctor(settings: Settings, as_json: bool, timeout: float) -> None:
    """What each channel will actually do with today's configuration; exits 1 when a configured
    provider (or the database) fails."""
    import json

    from actionwave.doctor import diagnose, render

    report = diagnose(settings, timeout)
    click.echo(json.dumps(report.as_dict(), indent=2) if as_json else render(report))
    sys.exit(0 if report.healthy else 1)


def main() -> None:
    from actionwave.accounts.cli import user
    from actionwave.bill.cli import bill
    from actionwave.delivery.cli import deliveries
    from actionwave.legislators.cli import data, lookup
    from actionwave.waves.cli import wave

    cli.add_command(bill)
    cli.add_command(deliveries)
    cli.add_command(data)
    cli.add_command(lookup)
    cli.add_command(user)
    cli.add_command(wave)
    cli()
