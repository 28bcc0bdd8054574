"""``actionwave bill status``: what the bill watcher last did for each campaign, and why."""

from __future__ import annotations

from datetime import datetime

import click
from sqlalchemy import select

from actionwave.bill.polls import STALE_AFTER, WatchStatus, watch_status
from actionwave.cli import example
from actionwave.core.models import Campaign, Wave
from actionwave.platform.config import Settings


@click.group(epilog=example("actionwave bill status",
                            "actionwave bill status --campaign hketo-certification-act"))
def bill() -> None:
    """The bill watcher (congress.gov)."""


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "never"


def describe(status: WatchStatus, waiting: list[Wave]) -> list[str]:
    """The lines ``bill status`` prints for one campaign."""
    lines = [f"{status.slug} · {status.bill_label}"]
    last = status.last
    if last is None:
        lines.append("  last poll:     none yet")
    else:
        if last.error_kind:
            found = f"failed ({last.error_kind}): {last.error_message}"
        elif last.outcome == "changed":
            found = (f"succeeded: new actions: {last.new_actions}, "
                     f"new stages: {last.new_transitions}")
        else:
            found = "succeeded, nothing new"
        lines.append(f"  last poll:     {_when(last.finished_at)}, {found}")
        if status.advice:
            lines.append(f"  what to do:    {status.advice}")
        lines.append(f"  last success:  {_when(last.last_success_at)}")
        lines.append(f"  polls:         {last.polls}, {last.failures} failed "
                     f"({last.failures_in_row} in a row now)")
    if status.hold_until:
        lines.append(f"  waiting until: {_when(status.hold_until)} (congress.gov's Retry-After)")
    for wave in waiting:
        lines.append(f"  wave #{wave.id} \"{wave.name}\" waits for {wave.trigger_stage}")
    if status.stale:
        hours = round(STALE_AFTER.total_seconds() / 3600)
        lines.append(f"  WARNING: no poll has succeeded in the last {hours} hours; "
                     "stage-triggered waves will not start")
    return lines


@bill.command("status", epilog=example(
    "actionwave bill status", "actionwave bill status --campaign hketo-certification-act"))
@click.option("--campaign", "slug", help="campaign slug (default: every campaign with a bill)")
@click.pass_obj
def status(settings: Settings, slug: str | None) -> None:
    """Show the last poll, its error and what to do, and the stage waves still waiting.

    Exits 1 when a campaign's watcher has not succeeded in 6 hours.

    Example: actionwave bill status --campaign hketo-certification-act
    """
    from actionwave.system.services import Services

    with Services(settings) as services, services.session() as session:
        query = select(Campaign).where(Campaign.bill_number.is_not(None))
        campaigns = session.scalars(
            query.where(Campaign.slug == slug) if slug else query.order_by(Campaign.id)).all()
        if not campaigns:
            raise click.ClickException(f"no campaign '{slug}' follows a bill" if slug
                                       else "no campaign follows a bill")
        stale = False
        for campaign in campaigns:
            watch = watch_status(session, campaign)
            waiting = session.scalars(select(Wave).where(
                Wave.campaign_id == campaign.id, Wave.trigger == "stage",
                Wave.status == "scheduled").order_by(Wave.id)).all()
            click.echo("\n".join(describe(watch, list(waiting))))
            stale = stale or watch.stale
    if stale:
        raise SystemExit(1)
