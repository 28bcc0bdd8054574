"""Office channels in bulk, on PostgreSQL and the embedded SQLite database: a CSV import is
previewed, refused whole with line numbers when a row is bad, applied whole otherwise, and the
channel planner then uses what it brought."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from actionwave.campaigns.coverage import coverage
from actionwave.campaigns.coverage_csv import (
    BOM,
    CoverageImportError,
    apply_import,
    export_channels,
    plan_import,
)
from actionwave.core.models import Campaign
from actionwave.messages.models import OfficeChannel, TargetAddress
from actionwave.system.services import Services
from tests.organizer_support import sqlite_services, store  # noqa: F401 (fixtures)

# NJ-04 and Alaska at large (no contact form in the data); a senator with one.
SMITH, BEGICH, BOOKER = "S000522", "B001323", "B001288"
GOOD = ("Bioguide ID,CWC office code,Contact form URL,Email\n"
        f"{SMITH},,https://chrissmith.house.gov/contact/new,smith@mail.house.gov\n"
        f"{BEGICH},,https://begich.house.gov/contact,\n"
        f"{BOOKER.lower()},,https://www.booker.senate.gov/write,\n")
BAD = ("bioguide_id,cwc_office,contact_form,email\n"
       f"{SMITH},HNY04,,\n"
       "Z999999,,,\n"
       f"{BEGICH},,ftp://x,not-an-email\n"
       "\n"
       f"{SMITH},,,a@b.org\n")


def counts(services: Services) -> tuple[int, int]:
    with services.session() as session:
        return (session.scalar(select(func.count()).select_from(OfficeChannel)) or 0,
                session.scalar(select(func.count()).select_from(TargetAddress)) or 0)


def choice_of(services: Services, bioguide_id: str, cwc_enabled: bool = False):  # type: ignore[no-untyped-def]
    with services.session() as session:
        campaign_id = session.scalar(select(Campaign.id))
        report = coverage(session, campaign_id, cwc_enabled=cwc_enabled)
    return next(c for c in report.choices if c.legislator.bioguide_id == bioguide_id)


def test_the_preview_lists_each_change_and_changes_nothing(store: Services):  # noqa: F811
    with store.session() as session:
        plan = plan_import(session, GOOD)
    assert plan.rows == 3 and plan.errors == []
    assert [(c.bioguide_id, c.field, c.before, c.after) for c in plan.changes] == [
        (SMITH, "contact_form", "", "https://chrissmith.house.gov/contact/new"),
        (SMITH, "email", "", "smith@mail.house.gov"),
        (BEGICH, "contact_form", "", "https://begich.house.gov/contact"),
        (BOOKER, "contact_form", "https://www.booker.senate.gov/?p=contact",
         "https://www.booker.senate.gov/write")]
    assert counts(store) == (0, 0)


def test_bad_rows_are_named_by_line_and_nothing_is_applied(store: Services):  # noqa: F811
    with store.session() as session:
        plan = plan_import(session, BAD)
        with pytest.raises(CoverageImportError) as refused:
            apply_import(session, BAD)
    assert [str(e) for e in plan.errors] == [
        "line 2: cwc_office: HNY04: not a code for this office (like HNJ04)",
        "line 3: bioguide_id: Z999999: not a sitting legislator",
        "line 4: contact_form: ftp://x: a web address such as https://smith.house.gov/contact",
        "line 4: email: not-an-email: an email address such as office@mail.house.gov",
        "line 6: bioguide_id: S000522 is also on line 2"]
    assert plan.changes == [] and refused.value.errors == plan.errors
    assert counts(store) == (0, 0)


def test_an_import_is_applied_whole_and_the_planner_uses_it(store: Services):  # noqa: F811
    assert choice_of(store, BEGICH).channel == "none"
    with store.session() as session:
        applied = apply_import(session, GOOD)
    assert len(applied.changes) == 4 and counts(store) == (3, 1)
    begich = choice_of(store, BEGICH)
    assert begich.channel == "contact_form"
    assert begich.contact_form == "https://begich.house.gov/contact"
    assert choice_of(store, SMITH).address == "smith@mail.house.gov"
    with store.session() as session:
        assert apply_import(session, GOOD).changes == []  # idempotent


def test_a_cwc_office_code_from_the_file_is_what_cwc_is_sent_to(store: Services):  # noqa: F811
    assert choice_of(store, SMITH, cwc_enabled=True).cwc_office == "HNJ04"
    with store.session() as session:
        apply_import(session, f"bioguide_id,cwc_office\n{SMITH},hnj05\n")
    assert choice_of(store, SMITH, cwc_enabled=True).cwc_office == "HNJ05"


def test_a_confirmation_applies_only_what_was_previewed(store: Services):  # noqa: F811
    with store.session() as session:
        seen = plan_import(session, GOOD).fingerprint
        apply_import(session, f"bioguide_id,email\n{SMITH},other@mail.house.gov\n")
        with pytest.raises(CoverageImportError, match="changed since the preview"):
            apply_import(session, GOOD, expected=seen)
    assert counts(store) == (0, 1)


def test_the_export_is_the_import_format_with_a_bom_and_changes_nothing(
        store: Services):  # noqa: F811
    with store.session() as session:
        apply_import(session, GOOD)
        text = export_channels(session)
        assert text.startswith(BOM)
        assert plan_import(session, text).changes == []
    rows = list(csv.DictReader(io.StringIO(text.removeprefix(BOM))))
    assert list(rows[0])[:4] == ["bioguide_id", "cwc_office", "contact_form", "email"]
    assert len(rows) > 530
    smith = next(r for r in rows if r["bioguide_id"] == SMITH)
    assert smith["email"] == "smith@mail.house.gov" and smith["cwc_office"] == "HNJ04"


def test_a_file_without_the_header_is_refused_on_line_1(store: Services):  # noqa: F811
    with store.session() as session:
        plan = plan_import(session, f"{SMITH},,https://x.house.gov/contact,\n")
    assert [str(e) for e in plan.errors] == [
        "line 1: bioguide_id: the header must name the columns: bioguide_id, cwc_office, "
        "contact_form, email"]
