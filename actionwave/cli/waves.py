"""``actionwave wave list|create|launch|pause|resume|cancel|status``."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any

import click
from sqlalchemy import func, select

from actionwave.cli import example
from actionwave.core.models import WAVE_STATUSES, Campaign, Delivery, Wave
from actionwave.platform.config import Settings
from actionwave.waves.control import (
    cancel_wave,
    list_waves,
    pause_wave,
    resume_wave,
    wave_progress,
)
from actionwave.waves.launch import create_wave, fan_out_wave, launch_wave
from actionwave.waves.segment import Segment, SegmentError, segment_count

SLUG = "hketo-certification-act"


@click.group(epilog=example(f"actionwave wave list --campaign {SLUG} --status running"))
def wave() -> None:
    """Action waves: list, create, launch, pause, resume, cancel and watch them."""


def _services(settings: Settings):  # type: ignore[no-untyped-def]
    from actionwave.system.services import Services

    return Services(settings)


@wave.command("list", epilog=example(f"actionwave wave list --campaign {SLUG} --status running",
                                     "actionwave wave list --json"))
@click.option("--campaign", "slug", help="only this campaign (its slug)")
@click.option("--status", "statuses", multiple=True, type=click.Choice(WAVE_STATUSES),
              help="only waves in this status (repeatable)")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per wave")
@click.pass_obj
def list_command(settings: Settings, slug: str | None, statuses: tuple[str, ...],
                 as_json: bool) -> None:
    """Every wave, newest first: its status, what starts it, and its progress."""
    with _services(settings) as services, services.session() as session:
        campaign_id = _campaign_id(session, slug) if slug else None
        rows = list_waves(session, campaign_id, statuses)
    for row in rows:
        click.echo(json.dumps(row) if as_json else _wave_line(row))
    click.echo(f"{len(rows)} waves", err=True)


def _wave_line(row: dict[str, Any]) -> str:
    starts = {"time": f"at {row['trigger_at']}", "stage": f"on stage {row['trigger_stage']}"}
    progress = f"{row['done']}/{row['total']} sent, {row['failed']} failed, " \
               f"{row['pending']} pending"
    return "\t".join([str(row["id"]), row["campaign"], row["status"],
                      starts.get(row["trigger"], "by hand"), progress, row["name"]])


def _campaign_id(session, slug: str) -> int:  # type: ignore[no-untyped-def]
    campaign_id = session.scalar(select(Campaign.id).where(Campaign.slug == slug))
    if campaign_id is None:
        raise click.ClickException(f"no campaign '{slug}'")
    return campaign_id


@wave.command("create", epilog=example(
    f"actionwave wave create --campaign {SLUG} --name 'House vote' --trigger stage "
    "--stage passed_house",
    f"actionwave wave create --campaign {SLUG} --name 'California first' --segment "
    "'{\"states\": [\"CA\"]}'"))
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
    with _services(settings) as services:
        try:
            with services.session() as session:
                campaign_id = _campaign_id(session, slug)
                created = create_wave(
                    session, campaign_id, name, template_name=template, segment=json.loads(segment),
                    trigger=trigger, trigger_at=datetime.fromisoformat(trigger_at) if trigger_at
                    else None, trigger_stage=trigger_stage, pace_per_minute=pace)
                session.commit()
                click.echo(f"created wave {created.id} ({created.status})")
        except (SegmentError, ValueError) as exc:
            raise click.ClickException(str(exc)) from exc


@wave.command("launch", epilog=example("actionwave wave launch 3"))
@click.argument("wave_id", type=int)
@click.pass_obj
def launch(settings: Settings, wave_id: int) -> None:
    """Start a wave now and fan it out, with a progress bar (safe to repeat: nobody gets it
    twice)."""
    with _services(settings) as services, services.session() as session:
        launch_wave(session, wave_id)
        with click.progressbar(length=_left_to_fan_out(session, wave_id),
                               label="Fanning out", file=sys.stderr) as bar:
            fanned = fan_out_wave(session, wave_id, settings.wave_chunk_size,
                                  on_chunk=bar.update)
        click.echo(json.dumps(wave_progress(session, wave_id)))
        if not fanned.finished:
            click.echo("fan-out stopped: the wave is not running", err=True)


def _left_to_fan_out(session, wave_id: int) -> int:  # type: ignore[no-untyped-def]
    found = session.get(Wave, wave_id)
    if found is None:
        raise click.ClickException(f"no wave {wave_id}")
    segment = session.scalar(segment_count(Segment.from_dict(found.segment), found.campaign_id))
    done = session.scalar(select(func.count()).where(Delivery.wave_id == wave_id))
    return max(0, (segment or 0) - (done or 0))


def _control(settings: Settings, wave_id: int, change, verb: str) -> None:  # type: ignore[no-untyped-def]
    with _services(settings) as services, services.session() as session:
        if not change(session, wave_id):
            raise click.ClickException(f"wave {wave_id} cannot be {verb} now")
        click.echo(json.dumps(wave_progress(session, wave_id)))


@wave.command("pause", epilog=example("actionwave wave pause 3"))
@click.argument("wave_id", type=int)
@click.pass_obj
def pause(settings: Settings, wave_id: int) -> None:
    """Stop sending a running wave (its pending messages wait)."""
    _control(settings, wave_id, pause_wave, "paused")


@wave.command("resume", epilog=example("actionwave wave resume 3"))
@click.argument("wave_id", type=int)
@click.pass_obj
def resume(settings: Settings, wave_id: int) -> None:
    """Resume a paused wave."""
    _control(settings, wave_id, resume_wave, "resumed")


@wave.command("cancel", epilog=example("actionwave wave cancel 3"))
@click.argument("wave_id", type=int)
@click.pass_obj
def cancel(settings: Settings, wave_id: int) -> None:
    """Cancel a wave; what has not been sent never will be."""
    _control(settings, wave_id, cancel_wave, "cancelled")


@wave.command("status", epilog=example("actionwave wave status 3"))
@click.argument("wave_id", type=int)
@click.pass_obj
def status(settings: Settings, wave_id: int) -> None:
    """Print the wave's progress as JSON (done / total, failures)."""
    with _services(settings) as services, services.session() as session:
        progress = wave_progress(session, wave_id)
        if progress is None:
            raise click.ClickException(f"no wave {wave_id}")
        click.echo(json.dumps(progress))
