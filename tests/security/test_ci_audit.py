"""CI audits requirements.lock (.ci/audit.py): a known vulnerability fails the build loudly; no
answer from the vulnerability service (no network here) only says what was not audited."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def judge(tmp_path: Path, report: dict) -> tuple[int, str]:
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    done = subprocess.run([sys.executable, str(ROOT / ".ci" / "audit.py"), "--from-report",
                           str(path)], capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout


def test_a_known_vulnerability_fails_the_build_naming_it(tmp_path):
    code, out = judge(tmp_path, {"dependencies": [
        {"name": "flask", "version": "0.1", "vulns": [
            {"id": "PYSEC-0000-1", "fix_versions": ["9.9"], "aliases": []}]},
        {"name": "redis", "version": "5.0", "vulns": []}]})
    assert code == 1
    assert "KNOWN VULNERABILITY" in out and "flask 0.1: PYSEC-0000-1 (fixed in: 9.9)" in out


def test_no_answer_from_the_service_warns_and_passes(tmp_path):
    code, out = judge(tmp_path, {"dependencies": [
        {"name": "flask", "skip_reason": "Dependency not found on PyPI"}]})
    assert code == 0 and "NOT AUDITED: 1 of 1 packages" in out


def test_ci_runs_the_audit():
    assert ".ci/audit.py" in (ROOT / ".ci" / "run").read_text()
