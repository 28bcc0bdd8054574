"""Office channels in bulk: a CSV of Bioguide ID, CWC office code, contact form URL and email.

One row per office; the header names the columns (``bioguide_id``, ``cwc_office``,
``contact_form``, ``email``, or their spelled-out forms ``Bioguide ID``, ``CWC office code``,
``Contact form URL``, ``Email``); other columns (the export's ``name``, ``chamber``, ``state``,
``district``) are ignored. An empty cell leaves that channel as it is. The CWC office code and
the contact form are stored as organizers' overrides (``messages.models.OfficeChannel``) and the
email as an address for every campaign (``TargetAddress``), which ``plan_channels`` then uses.

An import is planned first (``plan_import``: what would change, and every bad row with its line
number), then applied whole in one transaction (``apply_import``) or not at all. The export
(``export_channels``) writes the same columns with each office's channels in use today, so
importing an unchanged export changes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from actionwave.campaigns.coverage import EMAIL_RE
from actionwave.core.models import utcnow
from actionwave.legislators.models import Legislator
from actionwave.legislators.sync import current_snapshot_id
from actionwave.messages.models import OfficeChannel, TargetAddress, office_channels
from actionwave.platform.db import dialect_insert

COLUMNS = ("bioguide_id", "cwc_office", "contact_form", "email")
INFO_COLUMNS = ("name", "chamber", "state", "district")
ALIASES = {"bioguide": "bioguide_id", "cwc_office_code": "cwc_office", "cwc": "cwc_office",
           "contact_form_url": "contact_form", "email_address": "email"}
MAX_ROWS = 5_000
# Excel needs the byte-order mark to read the file as UTF-8.
BOM = "\ufeff"
BIOGUIDE_RE = re.compile(r"^[A-Z][0-9]{6}$")
CWC_RE = re.compile(r"^(H[A-Z]{2}[0-9]{2}|S[A-Z]{2}0[1-3])$")


# What each kind of problem says; pages say it in their language (``console_import_error_*``).
MESSAGES = {
    "header": "the header must name the columns: " + ", ".join(COLUMNS),
    "not_csv": "not a CSV file: {why}",
    "empty": "the file is empty",
    "too_many": "at most {most} rows",
    "duplicate": "{value} is also on line {other}",
    "not_sitting": "{value}: not a sitting legislator",
    "not_bioguide": "{value}: a Bioguide ID such as S000522",
    "cwc_office": "{value}: not a code for this office (like {example})",
    "contact_form": "{value}: a web address such as https://smith.house.gov/contact",
    "email": "{value}: an email address such as office@mail.house.gov",
    "stale": "the channels changed since the preview: review the changes again",
}


@dataclass(frozen=True)
class RowError:
    """A bad cell: ``line`` is the line in the file (the header is line 1); ``code`` is one of
    ``MESSAGES``, filled in with ``params``."""

    line: int
    field: str
    code: str
    params: dict[str, str | int] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return MESSAGES[self.code].format(**self.params)

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


@dataclass(frozen=True)
class ChannelChange:
    """One channel of one office, as it is and as the file would make it."""

    bioguide_id: str
    name: str
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class ImportPlan:
    """What an import would do. ``changes`` are empty and nothing may be applied while there are
    ``errors``; ``fingerprint`` names the changes, so a confirmation applies what was seen."""

    rows: int
    changes: list[ChannelChange] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for c in self.changes:
            digest.update(f"{c.bioguide_id}\0{c.field}\0{c.before}\0{c.after}\n".encode())
        return digest.hexdigest()[:16]


class CoverageImportError(ValueError):
    """The file has bad rows (``errors``), or changed meaning since it was previewed."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class _Office:
    bioguide_id: str
    name: str
    chamber: str
    state: str
    district: int | None
    cwc_office: str
    contact_form: str
    email: str


def current_offices(session: Session) -> dict[str, _Office]:
    """Every sitting legislator's office with the channels in use today. Reads only."""
    snapshot = current_snapshot_id(session)
    if snapshot is None:
        return {}
    overrides = office_channels(session)
    emails = dict(session.execute(
        select(TargetAddress.bioguide_id, TargetAddress.email)
        .where(TargetAddress.campaign_id.is_(None)).order_by(TargetAddress.id)).all())
    offices = {}
    for row in session.scalars(select(Legislator).where(Legislator.snapshot_id == snapshot)
                               .order_by(Legislator.state, Legislator.chamber.desc(),
                                         Legislator.district, Legislator.name)):
        mine = overrides.get(row.bioguide_id)
        offices[row.bioguide_id] = _Office(
            row.bioguide_id, row.name, row.chamber, row.state, row.district,
            (mine and mine.cwc_office) or row.cwc_office or "",
            (mine and mine.contact_form) or row.contact_form or "",
            emails.get(row.bioguide_id, ""))
    return offices


def export_channels(session: Session) -> str:
    """The CSV of every sitting legislator's channels, with a byte-order mark. Reads only."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS + INFO_COLUMNS)
    for o in current_offices(session).values():
        writer.writerow([o.bioguide_id, o.cwc_office, o.contact_form, o.email, o.name,
                         o.chamber, o.state, "" if o.district is None else o.district])
    return out.getvalue()


def _column(name: str) -> str:
    key = re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")
    return ALIASES.get(key, key)


def _rows(text: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, cells by column) for each non-blank row. Raises ``CoverageImportError``."""
    reader = csv.reader(io.StringIO(text.removeprefix(BOM)))
    header = [_column(name) for name in next(reader, [])]
    if "bioguide_id" not in header:
        raise CoverageImportError([RowError(1, "bioguide_id", "header")])
    line = reader.line_num
    for cells in reader:
        start, line = line + 1, reader.line_num
        if any(cell.strip() for cell in cells):
            yield start, {name: cell.strip() for name, cell in zip(header, cells, strict=False)
                          if name in COLUMNS}


def _changes(line: int, cells: dict[str, str],
             office: _Office) -> tuple[list[ChannelChange], list[RowError]]:
    """The row's changes to ``office``, or its errors. A value equal to today's is no change
    and is not checked (the legislator data has a few malformed contact forms)."""
    wanted = {"cwc_office": cells.get("cwc_office", "").upper(),
              "contact_form": cells.get("contact_form", ""), "email": cells.get("email", "")}
    changes = [ChannelChange(office.bioguide_id, office.name, name, getattr(office, name), value)
               for name, value in wanted.items()
               if value and value.lower() != getattr(office, name).lower()]
    errors = [error for c in changes if (error := _bad(line, c.field, c.after, office))]
    return ([] if errors else changes), errors


def _bad(line: int, name: str, value: str, office: _Office) -> RowError | None:
    if name == "cwc_office" and not (CWC_RE.match(value) and value[1:3] == office.state
                                     and value[0] == office.chamber[0].upper()):
        example = (f"H{office.state}{office.district or 0:02d}" if office.chamber == "house"
                   else f"S{office.state}01")
        return RowError(line, name, "cwc_office", {"value": value, "example": example})
    parts = urlsplit(value)
    if name == "contact_form" and (parts.scheme not in ("http", "https") or not parts.netloc
                                   or " " in value or len(value) > 300):
        return RowError(line, name, "contact_form", {"value": value[:80]})
    if name == "email" and (not EMAIL_RE.match(value) or len(value) > 254):
        return RowError(line, name, "email", {"value": value[:80]})
    return None


def plan_import(session: Session, text: str) -> ImportPlan:
    """Check every row of ``text`` (the CSV) and list the changes it would make. Reads only."""
    offices = current_offices(session)
    try:
        rows = list(_rows(text))
    except (CoverageImportError, csv.Error) as exc:
        errors = exc.errors if isinstance(exc, CoverageImportError) else [
            RowError(1, "file", "not_csv", {"why": str(exc)})]
        return ImportPlan(0, errors=errors)
    if len(rows) > MAX_ROWS:
        return ImportPlan(len(rows), errors=[RowError(rows[MAX_ROWS][0], "file", "too_many",
                                                      {"most": MAX_ROWS})])
    errors: list[RowError] = []
    changes: list[ChannelChange] = []
    first_seen: dict[str, int] = {}
    for line, cells in rows:
        bioguide = cells.setdefault("bioguide_id", "").upper()
        cells["bioguide_id"] = bioguide
        if bioguide in first_seen:
            errors.append(RowError(line, "bioguide_id", "duplicate",
                                   {"value": bioguide, "other": first_seen[bioguide]}))
            continue
        first_seen[bioguide] = line
        office = offices.get(bioguide)
        if office is None:
            code = "not_sitting" if BIOGUIDE_RE.match(bioguide) else "not_bioguide"
            errors.append(RowError(line, "bioguide_id", code, {"value": bioguide or "-"}))
            continue
        found, bad = _changes(line, cells, office)
        changes.extend(found)
        errors.extend(bad)
    return ImportPlan(len(rows), [] if errors else changes, errors)


def apply_import(session: Session, text: str, expected: str | None = None,
                 on_change: Callable[[int], None] | None = None) -> ImportPlan:
    """Plan ``text`` again and apply all its changes in one transaction, or none.

    ``expected`` is the fingerprint of the plan that was previewed: if the changes differ now
    (the file, or the channels, changed since), nothing is applied and ``CoverageImportError``
    says so. Raises ``CoverageImportError`` for bad rows. Idempotent: applying the same file
    again changes nothing. Commits.
    """
    plan = plan_import(session, text)
    if plan.errors:
        raise CoverageImportError(plan.errors)
    if expected is not None and plan.fingerprint != expected:
        raise CoverageImportError([RowError(1, "file", "stale")])
    try:
        for change in plan.changes:
            _apply(session, change)
            if on_change:
                on_change(1)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return plan


def _apply(session: Session, change: ChannelChange) -> None:
    if change.field == "email":
        session.add(TargetAddress(campaign_id=None, bioguide_id=change.bioguide_id,
                                  email=change.after, label="imported"))
        session.flush()
        return
    table = OfficeChannel.__table__
    stmt = dialect_insert(session, table).values(
        bioguide_id=change.bioguide_id, updated_at=utcnow(), **{change.field: change.after})
    session.execute(stmt.on_conflict_do_update(
        index_elements=[table.c.bioguide_id],
        set_={change.field: change.after, "updated_at": utcnow()}))
