"""``actionwave deliveries list|retry|in-doubt``: what organizers need when deliveries go wrong."""

from __future__ import annotations

import json

import click

from actionwave.config import Settings
from actionwave.delivery.recovery import (
    deliveries_in_state,
    in_doubt_report,
    retry_all_dead,
    retry_dead,
)
from actionwave.delivery.states import DEAD, TRANSITIONS


@click.group()
def deliveries() -> None:
    """Deliveries: list them by state, retry dead ones, report in-doubt sends."""


def _services(settings: Settings):  # type: ignore[no-untyped-def]
    from actionwave.services import Services

    return Services(settings)


@deliveries.command("list")
@click.option("--state", type=click.Choice(sorted(TRANSITIONS)), default=DEAD, show_default=True)
@click.option("--channel", help="only this channel (email, cwc, …)")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.pass_obj
def list_deliveries(settings: Settings, state: str, channel: str | None, limit: int) -> None:
    """Deliveries in a state, most recently changed first, with the provider's last answer."""
    services = _services(settings)
    try:
        with services.session() as session:
            rows = deliveries_in_state(session, state, limit, channel)
            for row in rows:
                when = row.updated_at.isoformat(timespec="seconds") if row.updated_at else "-"
                click.echo(f"{row.id}\t{row.channel}\t{row.recipient or '-'}\t"
                           f"attempts={row.attempts}\t{when}\t{row.last_error or ''}")
            click.echo(f"{len(rows)} {state} deliveries shown", err=True)
    finally:
        services.close()


@deliveries.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all-dead", is_flag=True, help="retry every dead delivery")
@click.option("--channel", help="with --all-dead: only this channel")
@click.pass_obj
def retry(settings: Settings, ids: tuple[int, ...], all_dead: bool, channel: str | None) -> None:
    """Send dead deliveries again (fresh attempts, due now). Other states are left alone."""
    if bool(ids) == all_dead:
        raise click.UsageError("give delivery ids or --all-dead (not both)")
    services = _services(settings)
    try:
        with services.session() as session:
            moved = retry_all_dead(session, channel) if all_dead else retry_dead(session, ids)
    finally:
        services.close()
    click.echo(f"{moved} dead deliveries back to pending; workers pick them up within "
               f"{settings.delivery_sweep_seconds:g} s")


@deliveries.command("in-doubt")
@click.pass_obj
def in_doubt(settings: Settings) -> None:
    """How many sends were in doubt (a worker died or a request timed out) and how each was
    settled with the provider, as JSON."""
    services = _services(settings)
    try:
        with services.session() as session:
            click.echo(json.dumps(in_doubt_report(session), sort_keys=True))
    finally:
        services.close()
