"""``data sync``: validation, the atomic swap, the summary, and the command line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from actionwave.legislators.models import Legislator, LegislatorSnapshot
from actionwave.legislators.sources import CROSSWALK, LEGISLATORS, SourceError, read_source
from actionwave.legislators.sync import current_snapshot_id, store_snapshot
from actionwave.platform.config import Settings
from tests.conftest import SHARED_DATA


def flat_copy(target: Path) -> Path:
    """The four data files in one flat folder (the other accepted layout)."""
    for sub, name in (("congress-legislators", "legislators-current.yaml"),
                      ("congress-legislators", "legislators-social-media.yaml"),
                      ("congress-legislators", "legislators-district-offices.yaml"),
                      ("zip-districts", "zccd.csv")):
        shutil.copy(SHARED_DATA / sub / name, target / name)
    return target


def run_cli(settings: Settings, *args: str):  # type: ignore[no-untyped-def]
    from actionwave.cli import cli
    from actionwave.cli.legislators import data, lookup

    cli.add_command(data)
    cli.add_command(lookup)
    return CliRunner().invoke(cli, list(args), env=settings.to_env(), catch_exceptions=False)


def test_sync_from_the_shared_layout_reports_members_vacancies_and_zips(settings) -> None:
    result = run_cli(settings, "data", "sync", "--source", str(SHARED_DATA))
    assert result.exit_code == 0, result.output
    assert "437 House (incl. 6 delegates), 100 Senate" in result.output
    assert "Vacancies: CA-14, FL-20, GA-13, TX-23." in result.output
    assert "ZIPs: 33774, of which 7299 (21.6%) span several districts." in result.output


def test_truncated_file_aborts_and_keeps_the_old_snapshot(settings, services, tmp_path) -> None:
    with services.session() as session:
        store_snapshot(session, read_source(str(SHARED_DATA)))
        before = current_snapshot_id(session)
    folder = flat_copy(tmp_path)
    raw = (folder / LEGISLATORS).read_bytes()
    (folder / LEGISLATORS).write_bytes(raw[: len(raw) // 2])
    result = run_cli(settings, "data", "sync", "--source", str(folder))
    assert result.exit_code == 1
    assert "legislators-current.yaml" in result.output
    assert "previous snapshot stays in use" in result.output
    with services.session() as session:
        assert current_snapshot_id(session) == before


@pytest.mark.parametrize("cut", [0.5, 0.999])
def test_truncated_crosswalk_is_refused(tmp_path, cut: float) -> None:
    folder = flat_copy(tmp_path)
    raw = (folder / CROSSWALK).read_bytes()
    (folder / CROSSWALK).write_bytes(raw[: int(len(raw) * cut)])
    with pytest.raises(SourceError, match=r"zccd\.csv"):
        read_source(str(folder))


def test_missing_file_names_it(tmp_path) -> None:
    folder = flat_copy(tmp_path)
    (folder / "legislators-social-media.yaml").unlink()
    with pytest.raises(SourceError, match=r"legislators-social-media\.yaml"):
        read_source(str(folder))


def test_second_sync_reports_members_added_and_gone(services, tmp_path) -> None:
    with services.session() as session:
        store_snapshot(session, read_source(str(SHARED_DATA)))
    folder = flat_copy(tmp_path)
    people = yaml.load((folder / LEGISLATORS).read_bytes(), Loader=yaml.CSafeLoader)
    gone = people.pop()["id"]["bioguide"]
    (folder / LEGISLATORS).write_text(yaml.safe_dump(people))
    with services.session() as session:
        summary = store_snapshot(session, read_source(str(folder)))
        assert summary.gone == [gone] and summary.added == []
        count = session.scalar(select(func.count()).select_from(Legislator)
                               .where(Legislator.snapshot_id == summary.snapshot_id))
        assert count == len(people)
        assert session.scalar(select(func.count()).select_from(LegislatorSnapshot)) == 2


def test_failed_store_leaves_the_current_snapshot(services) -> None:
    data = read_source(str(SHARED_DATA))
    with services.session() as session:
        before = store_snapshot(session, data).snapshot_id
    broken = type(data)(label=data.label, members=[*data.members, data.members[0]],
                        zip_rows=data.zip_rows)
    with services.session() as session, pytest.raises(IntegrityError):
        store_snapshot(session, broken)
    with services.session() as session:
        assert current_snapshot_id(session) == before


def test_lookup_command_prints_the_lookup_json(settings, services) -> None:
    with services.session() as session:
        store_snapshot(session, read_source(str(SHARED_DATA)))
    result = run_cli(settings, "lookup", "--zip", "82001")
    assert result.exit_code == 0, result.output
    assert '"cwc_office": "HWY00"' in result.output
    assert run_cli(settings, "lookup", "--zip", "20500").exit_code == 1
    assert run_cli(settings, "lookup", "--zip", "abc").exit_code == 2
