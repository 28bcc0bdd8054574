"""``actionwave wave create|launch|pause|resume|cancel|status``."""

from __future__ import annotations

import json
from datetime import datetime

import click
from sqlalchemy import select

from actionwave.config import Settings
from actionwave.models import Campaign
from actionwave.waves.control import cancel_wave, pause_wave, resume_wave, wave_progress
from actionwave.waves.launch import create_wave, fan_out_wave, launch_wave
from actionwave.waves.segment import SegmentError


@click.group()
def wave() -> None:
    """Action waves: create, launch, pause, resume, cancel and watch them."""


def _services(settings: Settings):  # type: ignore[no-untyped-def]
    from actionwave.services import Services

    return Services(settings)


@wave.command("create")
@click.option("--campaign", "slug", required=True, help="campaign slug")
@click.option("--name", required=True)
@click.option("--template", default="default", show_default=True)
@click.option("--segment", default="{}", help='JSON, e.g. {"states": ["CA"], "locale": "en"}')
@click.option("--trigger", type=click.Choice(["manual", "time", "stage"]), default="manual")
@click.option("--at", "trigger_at", help="ISO date-time with zone, for --trigger time")
@click.option("--stage", "trigger_stage", help="e.g. passed_house or in_committee:senate")
@click.option("--pace", type=int, help="deliveries per minute (default: as fast as allowed)")
@click.pass_obj
def create(settings: Settings, slug: str, name: str, template: str, segment: str,
           trigger: str, trigger_at: str | None, trigger_stage: str | None,
           pace: int | None) -> None:
    """Create a wave (draft, or scheduled for time and stage triggers)."""
    services = _services(settings)
    try:
        with services.session() as session:
            campaign_id = session.scalar(select(Campaign.id).where(Campaign.slug == slug))
            if campaign_id is None:
                raise click.ClickException(f"no campaign '{slug}'")
            created = create_wave(
                session, campaign_id, name, template_name=template, segment=json.loads(segment),
                trigger=trigger, trigger_at=datetime.fromisoformat(trigger_at) if trigger_at
                else None, trigger_stage=trigger_stage, pace_per_minute=pace)
            session.commit()
            click.echo(f"created wave {created.id} ({created.status})")
    except (SegmentError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        services.close()


@wave.command("launch")
@click.argument("wave_id", type=int)
@click.pass_obj
def launch(settings: Settings, wave_id: int) -> None:
    """Start a wave now and fan it out (safe to repeat: nobody gets it twice)."""
    services = _services(settings)
    try:
        with services.session() as session:
            launch_wave(session, wave_id)
            fanned = fan_out_wave(session, wave_id, settings.wave_chunk_size)
            click.echo(json.dumps(wave_progress(session, wave_id)))
            if not fanned.finished:
                click.echo("fan-out stopped: the wave is not running", err=True)
    finally:
        services.close()


def _control(settings: Settings, wave_id: int, change, verb: str) -> None:  # type: ignore[no-untyped-def]
    services = _services(settings)
    try:
        with services.session() as session:
            if not change(session, wave_id):
                raise click.ClickException(f"wave {wave_id} cannot be {verb} now")
            click.echo(json.dumps(wave_progress(session, wave_id)))
    finally:
        services.close()


@wave.command("pause")
@click.argument("wave_id", type=int)
@click.pass_obj
def pause(settings: Settings, wave_id: int) -> None:
    """Stop sending a running wave (its pending messages wait)."""
    _control(settings, wave_id, pause_wave, "paused")


@wave.command("resume")
@click.argument("wave_id", type=int)
@click.pass_obj
def resume(settings: Settings, wave_id: int) -> None:
    """Resume a paused wave."""
    _control(settings, wave_id, resume_wave, "resumed")


@wave.command("cancel")
@click.argument("wave_id", type=int)
@click.pass_obj
def cancel(settings: Settings, wave_id: int) -> None:
    """Cancel a wave; what has not been sent never will be."""
    _control(settings, wave_id, cancel_wave, "cancelled")


@wave.command("status")
@click.argument("wave_id", type=int)
@click.pass_obj
def status(settings: Settings, wave_id: int) -> None:
    """Print the wave's progress as JSON (done / total, failures)."""
    services = _services(settings)
    try:
        with services.session() as session:
            progress = wave_progress(session, wave_id)
            if progress is None:
                raise click.ClickException(f"no wave {wave_id}")
            click.echo(json.dumps(progress))
    finally:
        services.close()
