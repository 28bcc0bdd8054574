"""``actionwave deliveries list|retry|in-doubt``: what organizers need when deliveries go wrong."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import click
from sqlalchemy import select

from actionwave.cli import example
from actionwave.core.models import Campaign
from actionwave.delivery.recovery import (
    DeliveryQuery,
    find_deliveries,
    in_doubt_report,
    retry_all_dead,
    retry_dead,
)
from actionwave.delivery.states import TRANSITIONS
from actionwave.platform.config import Settings

AGO = re.compile(r"^(\d+)\s*([mhd])$")
UNITS = {"m": "minutes", "h": "hours", "d": "days"}


@click.group(epilog=example("actionwave deliveries list --state dead --since 24h"))
def deliveries() -> None:
    """Deliveries: list them by state, campaign, legislator and time; retry dead ones; report
    in-doubt sends."""


def _services(settings: Settings):  # type: ignore[no-untyped-def]
    from actionwave.system.services import Services

    return Services(settings)


class When(click.ParamType):
    """A moment: ISO 8601 (UTC unless it has a zone), or a time ago such as ``30m``, ``6h``,
    ``2d``."""

    name = "WHEN"

    def convert(self, value: object, param: click.Parameter | None,
                ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        text = str(value).strip()
        ago = AGO.match(text)
        if ago:
            return datetime.now(UTC) - timedelta(**{UNITS[ago[2]]: int(ago[1])})
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            self.fail(f"{text!r}: an ISO date-time (2026-12-03T09:00) or a time ago (6h, 2d)",
                      param, ctx)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@deliveries.command("list", epilog=example(
    "actionwave deliveries list --state dead --since 24h",
    "actionwave deliveries list --campaign hketo-certification-act --legislator S000522",
    "actionwave deliveries list --state sent --since 2026-12-03T09:00 --until 2026-12-03T12:00"))
@click.option("--state", type=click.Choice(sorted(TRANSITIONS)), help="only this state")
@click.option("--channel", help="only this channel (email, cwc, wave_email, …)")
@click.option("--campaign", "slug", help="only this campaign's (its slug)")
@click.option("--legislator", "bioguide_id", metavar="BIOGUIDE_ID",
              help="only letters to this legislator's office")
@click.option("--since", type=When(), help="changed at or after (ISO date-time, or 6h, 2d)")
@click.option("--until", type=When(), help="changed before (ISO date-time, or 30m)")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.pass_obj
def list_deliveries(settings: Settings, state: str | None, channel: str | None,
                    slug: str | None, bioguide_id: str | None, since: datetime | None,
                    until: datetime | None, limit: int) -> None:
    """Deliveries, most recently changed first: id, state, channel, recipient, attempts, when
    it last changed, and the provider's last answer."""
    with _services(settings) as services, services.session() as session:
        campaign_id = None
        if slug:
            campaign_id = session.scalar(select(Campaign.id).where(Campaign.slug == slug))
            if campaign_id is None:
                raise click.ClickException(f"no campaign '{slug}'")
        rows = find_deliveries(session, DeliveryQuery(
            state, channel, campaign_id, bioguide_id, since, until), limit)
        for row in rows:
            when = row.updated_at.isoformat(timespec="seconds") if row.updated_at else "-"
            click.echo(f"{row.id}\t{row.state}\t{row.channel}\t{row.recipient or '-'}\t"
                       f"attempts={row.attempts}\t{when}\t{row.last_error or ''}")
        click.echo(f"{len(rows)} {state or ''} deliveries shown".replace("  ", " "),
                   err=True)


@deliveries.command("retry", epilog=example("actionwave deliveries retry 812 813",
                                             "actionwave deliveries retry --all-dead "
                                             "--channel email"))
@click.argument("ids", nargs=-1, type=int)
@click.option("--all-dead", is_flag=True, help="retry every dead delivery")
@click.option("--channel", help="with --all-dead: only this channel")
@click.pass_obj
def retry(settings: Settings, ids: tuple[int, ...], all_dead: bool, channel: str | None) -> None:
    """Send dead deliveries again (fresh attempts, due now). Other states are left alone."""
    if bool(ids) == all_dead:
        raise click.UsageError("give delivery ids or --all-dead (not both)")
    with _services(settings) as services, services.session() as session:
        moved = retry_all_dead(session, channel) if all_dead else retry_dead(session, ids)
    click.echo(f"{moved} dead deliveries back to pending; workers pick them up within "
               f"{settings.delivery_sweep_seconds:g} s")


@deliveries.command("in-doubt", epilog=example("actionwave deliveries in-doubt"))
@click.pass_obj
def in_doubt(settings: Settings) -> None:
    """How many sends were in doubt (a worker died or a request timed out) and how each was
    settled with the provider, as JSON."""
    with _services(settings) as services, services.session() as session:
        click.echo(json.dumps(in_doubt_report(session), sort_keys=True))
