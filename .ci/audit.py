"""Audit requirements.lock for known vulnerabilities with pip-audit; run by .ci/run.

- A known vulnerability fails the build, loudly, naming the package, the advisory and the fixed
  versions. An advisory that does not apply to us goes in .ci/audit-ignore (its id, then why).
- No answer from the vulnerability service (no network, a mirror without it) does not fail the
  build: it is reported as "NOT AUDITED", with what could not be checked.

``--from-report FILE`` judges a report pip-audit already wrote (``-f json``) instead of running it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
IGNORE = ROOT / ".ci" / "audit-ignore"


def ignored() -> set[str]:
    if not IGNORE.exists():
        return set()
    return {line.split()[0] for line in IGNORE.read_text().splitlines()
            if line.strip() and not line.startswith("#")}


def run_pip_audit() -> dict | None:
    """pip-audit's JSON report, or None (with the reason printed) when it could not run."""
    binary = shutil.which("pip-audit", path=str(Path(sys.executable).parent)) or shutil.which(
        "pip-audit")
    if binary is None:
        print("pip-audit: NOT AUDITED: pip-audit is not installed (make install adds it)")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        done = subprocess.run(
            [binary, "-r", str(LOCK), "--no-deps", "--disable-pip", "--progress-spinner", "off",
             "-f", "json", "-o", str(out)], capture_output=True, text=True, timeout=600)
        if not out.exists():
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            print("pip-audit: NOT AUDITED: the vulnerability service did not answer "
                  f"({last[:300]})")
            return None
        return json.loads(out.read_text())


def judge(report: dict, skip: set[str]) -> int:
    """Print the verdict; 1 when a known vulnerability applies, else 0."""
    dependencies = report.get("dependencies", [])
    found = [(d, v) for d in dependencies for v in d.get("vulns", [])
             if v["id"] not in skip and not set(v.get("aliases", [])) & skip]
    unaudited = [d["name"] for d in dependencies if d.get("skip_reason")]
    if found:
        print("=" * 72)
        print(f"pip-audit: {len(found)} KNOWN VULNERABILIT{'Y' if len(found) == 1 else 'IES'} "
              "in requirements.lock")
        for dependency, vuln in found:
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no fixed version yet"
            print(f"  {dependency['name']} {dependency.get('version', '?')}: {vuln['id']} "
                  f"(fixed in: {fixed})")
        print("Upgrade in pyproject.toml and `make lock`, or list the id in .ci/audit-ignore "
              "with why it does not apply.")
        print("=" * 72)
        return 1
    if unaudited:
        print(f"pip-audit: NOT AUDITED: {len(unaudited)} of {len(dependencies)} packages had no "
              f"answer from the vulnerability service: {', '.join(unaudited[:10])}"
              + (" ..." if len(unaudited) > 10 else ""))
    if len(unaudited) < len(dependencies):
        print(f"pip-audit: no known vulnerabilities in {len(dependencies) - len(unaudited)} "
              "audited packages")
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["--from-report"]:
        report: dict | None = json.loads(Path(argv[1]).read_text())
    else:
        report = run_pip_audit()
    return 0 if report is None else judge(report, ignored())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
