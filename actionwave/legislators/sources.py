"""Reading and validating the public data files a snapshot is built from.

The legislators come from ``unitedstates/congress-legislators`` (current members, their social
media accounts, their district offices); the ZIP (ZCTA) → district crosswalk is ``zccd.csv`` of
``OpenSourceActivismTech/us-zipcodes-congress``. A source is a folder (flat, or with the
``congress-legislators/`` and ``zip-districts/`` subfolders) or a base URL with the same files.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import yaml

from actionwave.legislators.cwc import cwc_office

LEGISLATORS = "legislators-current.yaml"
SOCIAL = "legislators-social-media.yaml"
OFFICES = "legislators-district-offices.yaml"
CROSSWALK = "zccd.csv"
SUBFOLDERS = {LEGISLATORS: "congress-legislators", SOCIAL: "congress-legislators",
              OFFICES: "congress-legislators", CROSSWALK: "zip-districts"}
FILES = (LEGISLATORS, SOCIAL, OFFICES, CROSSWALK)

OFFICIAL_URLS = {
    LEGISLATORS: "https://unitedstates.github.io/congress-legislators/legislators-current.yaml",
    SOCIAL: "https://unitedstates.github.io/congress-legislators/legislators-social-media.yaml",
    OFFICES: "https://unitedstates.github.io/congress-legislators/legislators-district-offices.yaml",
    CROSSWALK: "https://raw.githubusercontent.com/OpenSourceActivismTech/"
               "us-zipcodes-congress/master/zccd.csv",
}

# Congress has 541 seats and the crosswalk ~33,800 ZCTAs. Far fewer rows than that means a cut
# file that still happened to parse, and loading it would silently drop people's legislators.
MIN_MEMBERS = 400
MIN_CROSSWALK_ROWS = 30_000
CROSSWALK_HEADER = ["state_fips", "state_abbr", "zcta", "cd"]
ZCTA_RE = re.compile(r"^\d{5}$")
STATE_RE = re.compile(r"^[A-Z]{2}$")
FETCH_TIMEOUT_SECONDS = 60

YamlLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class SourceError(ValueError):
    """A data file is missing, unreadable, truncated or malformed; the message names it."""


@dataclass(frozen=True)
class SourceData:
    """Validated rows ready to store: one dict per member and (zcta, state, district) tuples."""

    label: str
    members: list[dict[str, Any]]
    zip_rows: list[tuple[str, str, int]]


def locate(source: str | None, name: str) -> str:
    """Where ``name`` lives in ``source``: a path or URL. ``None`` means the official URLs."""
    if not source:
        return OFFICIAL_URLS[name]
    if source.startswith(("http://", "https://")):
        return f"{source.rstrip('/')}/{name}"
    folder = Path(source)
    nested = folder / SUBFOLDERS[name] / name
    return str(nested if nested.exists() else folder / name)


def fetch(location: str) -> bytes:
    """The bytes at a path or URL. Raises ``SourceError``."""
    if location.startswith(("http://", "https://")):
        try:
            response = requests.get(location, timeout=FETCH_TIMEOUT_SECONDS)
        except requests.RequestException as exc:
            raise SourceError(f"{location}: {exc}") from exc
        if response.status_code != 200:
            raise SourceError(f"{location}: HTTP {response.status_code}")
        return response.content
    try:
        return Path(location).read_bytes()
    except OSError as exc:
        raise SourceError(f"{location}: {exc.strerror or exc}") from exc


def read_source(source: str | None, on_file: Callable[[str], None] | None = None) -> SourceData:
    """Fetch, parse and validate every file of ``source``. Raises ``SourceError``; reads only."""
    raw: dict[str, bytes] = {}
    for name in FILES:
        raw[name] = fetch(locate(source, name))
        if on_file:
            on_file(name)
    people = parse_yaml(raw[LEGISLATORS], LEGISLATORS)
    social = {_bioguide(p, SOCIAL): p.get("social") or {} for p in parse_yaml(raw[SOCIAL], SOCIAL)}
    offices = {_bioguide(p, OFFICES): p.get("offices") or []
               for p in parse_yaml(raw[OFFICES], OFFICES)}
    members = [member_record(p, social, offices) for p in people]
    if len(members) < MIN_MEMBERS:
        raise SourceError(f"{LEGISLATORS}: only {len(members)} members (expected at least "
                          f"{MIN_MEMBERS}); is the file truncated?")
    return SourceData(label=source or "official URLs", members=members,
                      zip_rows=parse_crosswalk(raw[CROSSWALK]))


def parse_yaml(data: bytes, name: str) -> list[dict[str, Any]]:
    try:
        parsed = yaml.load(data, Loader=YamlLoader)  # CSafeLoader when built with libyaml
    except yaml.YAMLError as exc:
        raise SourceError(f"{name}: not valid YAML ({exc}); is the file truncated?") from exc
    if not isinstance(parsed, list) or not all(isinstance(p, dict) for p in parsed):
        raise SourceError(f"{name}: expected a list of people")
    return parsed


def _bioguide(person: dict[str, Any], name: str) -> str:
    bioguide = (person.get("id") or {}).get("bioguide")
    if not isinstance(bioguide, str) or not bioguide:
        raise SourceError(f"{name}: an entry has no id.bioguide")
    return bioguide


def member_record(person: dict[str, Any], social: dict[str, dict[str, Any]],
                  offices: dict[str, list[Any]]) -> dict[str, Any]:
    """One member as stored: their current (last) term, name, X handle and offices."""
    bioguide = _bioguide(person, LEGISLATORS)
    terms = person.get("terms")
    if not isinstance(terms, list) or not terms or not isinstance(terms[-1], dict):
        raise SourceError(f"{LEGISLATORS}: {bioguide} has no terms")
    term = terms[-1]
    kind, state = term.get("type"), term.get("state")
    if kind not in ("rep", "sen") or not isinstance(state, str) or not STATE_RE.match(state):
        raise SourceError(f"{LEGISLATORS}: {bioguide} has an incomplete current term")
    chamber = "house" if kind == "rep" else "senate"
    district = term.get("district") if chamber == "house" else None
    senate_class = term.get("class") if chamber == "senate" else None
    if chamber == "house" and not isinstance(district, int):
        raise SourceError(f"{LEGISLATORS}: {bioguide} (House) has no district")
    if chamber == "senate" and senate_class not in (1, 2, 3):
        raise SourceError(f"{LEGISLATORS}: {bioguide} (Senate) has no class")
    name = person.get("name") or {}
    full = name.get("official_full") or " ".join(
        part for part in (name.get("first"), name.get("last")) if part
    )
    if not full:
        raise SourceError(f"{LEGISLATORS}: {bioguide} has no name")
    return {
        "bioguide_id": bioguide, "chamber": chamber, "state": state, "district": district,
        "senate_class": senate_class, "name": full, "party": term.get("party"),
        "phone": term.get("phone"), "url": term.get("url"),
        "contact_form": term.get("contact_form"),
        "twitter": social.get(bioguide, {}).get("twitter"),
        "cwc_office": cwc_office(chamber, state, district, senate_class),
        "info": {"address": term.get("address"), "term_end": str(term.get("end") or ""),
                 "offices": offices.get(bioguide, [])},
    }


def parse_crosswalk(data: bytes) -> list[tuple[str, str, int]]:
    """Rows of ``zccd.csv`` as (zcta, state, district), ZCTAs kept as 5-digit strings."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{CROSSWALK}: not UTF-8 text") from exc
    reader = csv.reader(io.StringIO(text))
    if next(reader, None) != CROSSWALK_HEADER:
        raise SourceError(f"{CROSSWALK}: expected the header {','.join(CROSSWALK_HEADER)}")
    rows: set[tuple[str, str, int]] = set()
    for line_no, row in enumerate(reader, start=2):
        if len(row) != 4 or not ZCTA_RE.match(row[2]) or not STATE_RE.match(row[1]):
            raise SourceError(f"{CROSSWALK}: line {line_no} is malformed: {','.join(row)!r}")
        if not row[3].isdigit() or int(row[3]) > 60:
            raise SourceError(f"{CROSSWALK}: line {line_no} has a bad district {row[3]!r}")
        rows.add((row[2], row[1], int(row[3])))
    if len(rows) < MIN_CROSSWALK_ROWS:
        raise SourceError(f"{CROSSWALK}: only {len(rows)} rows (expected at least "
                          f"{MIN_CROSSWALK_ROWS}); is the file truncated?")
    return sorted(rows)
