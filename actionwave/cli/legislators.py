"""``actionwave data sync`` and ``actionwave lookup``."""

from __future__ import annotations

import json
import sys
import time

import click

from actionwave.cli import example
from actionwave.legislators.index import NoSnapshot, load_index
from actionwave.legislators.lookup import (
    BadLookupInput,
    ZipNotFound,
    find_legislators,
    parse_address,
    parse_district,
    parse_zip,
)
from actionwave.legislators.sources import FILES, SourceError, read_source
from actionwave.legislators.sync import SyncSummary, store_snapshot, store_steps
from actionwave.platform.config import Settings
from actionwave.system.services import Services


@click.group(epilog=example("actionwave data sync", "actionwave data sync --source ../shared/data"))
def data() -> None:
    """Legislator and ZIP-district data."""


@data.command("sync", epilog=example(
    "actionwave data sync", "actionwave data sync --source ../shared/data",
    "DATA_SOURCE=../shared/data actionwave data sync"))
@click.option("--source", default=None, metavar="URL_OR_PATH",
              help="A folder or base URL with the data files (default: DATA_SOURCE, else the "
                   "official URLs).")
@click.pass_obj
def data_sync(settings: Settings, source: str | None) -> None:
    """Load, validate and atomically swap in a new snapshot of legislators and ZIP districts.

    Without --source or DATA_SOURCE it downloads the official files, so it needs the internet;
    a folder holding the same files works offline."""
    source = source or settings.data_source or None
    services = Services(settings)
    started = time.monotonic()
    try:
        with click.progressbar(length=len(FILES), label="Reading data files",
                               file=sys.stderr) as bar:
            data = read_source(source, on_file=lambda _name: bar.update(1))
        with click.progressbar(length=store_steps(data), label="Storing snapshot   ",
                               file=sys.stderr) as bar, \
                services.session() as session:
            summary = store_snapshot(session, data, on_step=bar.update)
    except SourceError as exc:
        raise click.ClickException(f"{exc}\nNothing was changed: the previous snapshot stays "
                                   "in use.") from exc
    finally:
        services.close()
    click.echo(format_summary(summary, time.monotonic() - started))


def format_summary(summary: SyncSummary, seconds: float) -> str:
    """The end-of-sync report for organizers."""
    lines = [
        f"Snapshot {summary.snapshot_id} is now current ({seconds:.1f} s).",
        f"Members: {summary.members['house']} House (incl. {summary.delegates} delegates), "
        f"{summary.members['senate']} Senate.",
        f"Vacancies: {', '.join(summary.vacancies) or 'none'}.",
    ]
    if summary.previous_snapshot_id is None:
        lines.append("First snapshot: no earlier one to compare with.")
    else:
        lines.append(f"Since the last sync: {len(summary.added)} added "
                     f"({', '.join(summary.added) or '-'}), {len(summary.gone)} gone "
                     f"({', '.join(summary.gone) or '-'}).")
    share = 100 * summary.split_zips / summary.zips if summary.zips else 0
    lines.append(f"ZIPs: {summary.zips}, of which {summary.split_zips} ({share:.1f}%) span "
                 "several districts.")
    return "\n".join(lines)


@click.command(epilog=example("actionwave lookup --zip 82001",
                              "actionwave lookup --zip 10001 --address '350 5th Ave'",
                              "actionwave lookup --zip 10001 --district NY-12"))
@click.option("--zip", "zip_code", required=True, help="Five-digit ZIP code.")
@click.option("--address", default=None, help="Street address, used when the ZIP is split.")
@click.option("--district", default=None, help="A district the supporter chose.")
@click.pass_obj
def lookup(settings: Settings, zip_code: str, address: str | None, district: str | None) -> None:
    """Print the legislators for a ZIP (and address) as JSON, like GET /api/v1/legislators."""
    with Services(settings) as services:
        try:
            zcta = parse_zip(zip_code)
            with services.session() as session:
                index = load_index(session, zips=[zcta])
            result = find_legislators(index, zcta, address=parse_address(address),
                                      district=parse_district(district), geocoder=services.geocoder)
        except BadLookupInput as exc:
            raise click.BadParameter(exc.message, param_hint=f"--{exc.field}") from exc
        except NoSnapshot as exc:
            raise click.ClickException(
                "no legislator data yet: run `actionwave data sync`") from exc
        except ZipNotFound as exc:
            raise click.ClickException(
                f"ZIP {zip_code} is not in the ZIP-district crosswalk") from exc
    click.echo(json.dumps(result.answer, indent=2))
