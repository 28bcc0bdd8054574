"""The ``actionwave`` command line. Feature areas add their command groups in ``main``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from actionwave.config import Settings, SettingsError

DEFAULT_CAMPAIGN = Path("campaigns/hketo-certification-act.yaml")


@click.group()
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Actionwave: advocacy campaigns that move with a bill in the U.S. Congress."""
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
@click.option("--force", is_flag=True,
              help="Replace an existing campaign's copy and templates with the file's, after"
                   " showing the difference (its status is kept).")
@click.option("--yes", is_flag=True, help="With --force: replace without asking.")
@click.pass_obj
def campaign_load(settings: Settings, path: Path, force: bool, yes: bool) -> None:
    """Seed a campaign from its YAML file; an existing one is left as organizers edited it."""
    from actionwave.campaigns import CampaignFileError, campaign_diff, load_campaign
    from actionwave.services import Services

    services = Services(settings)
    try:
        with services.session() as session:
            diff = campaign_diff(session, path)
            if diff is None:
                loaded = load_campaign(session, path)
                click.echo(f"seeded campaign '{loaded.slug}' ({len(loaded.templates)} templates)")
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
@click.pass_obj
def web(settings: Settings, port: int, host: str, workers: int) -> None:
    """Serve the web app with gunicorn (production)."""
    from actionwave.runner import exec_gunicorn

    refuse_unsafe(settings, "web")
    exec_gunicorn(host, port, workers)


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def worker(settings: Settings, celery_args: tuple[str, ...]) -> None:
    """Run a Celery worker, restarted if it dies (extra arguments go to Celery)."""
    from actionwave.runner import is_supervised_child, supervise
    from workers import create_celery

    refuse_unsafe(settings, "worker")
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

    refuse_unsafe(settings, "beat")
    if not is_supervised_child():
        sys.exit(supervise([sys.executable, "-m", "actionwave", "beat", *celery_args], "beat"))
    schedule = settings.instance_path / "celerybeat-schedule"
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    create_celery(settings).start(
        ["beat", "--loglevel", settings.log_level, "--schedule", str(schedule), *celery_args]
    )


@cli.command()
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


def main() -> None:
    from actionwave.accounts.cli import user
    from actionwave.delivery.cli import deliveries
    from actionwave.legislators.cli import data, lookup
    from actionwave.waves.cli import wave

    cli.add_command(deliveries)
    cli.add_command(data)
    cli.add_command(lookup)
    cli.add_command(user)
    cli.add_command(wave)
    cli()
