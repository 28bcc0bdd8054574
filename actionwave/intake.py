"""Accepting a supporter's submission: validation, then one durable transaction.

``store_submissions`` writes the supporter, the action, their consent to the campaign's mail
(when given) and an outbox message together, so an answered submission is on disk before the
reply and reaches the workers even if the broker is down. ``submit_action`` does it with a
session; the web intake goes through a ``SubmissionStore`` (``actionwave.group_commit``), which
writes the rows of concurrent requests together.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Integer, String, Uuid, column, select, text
from sqlalchemy.orm import Session

from actionwave.config import Settings
from actionwave.cwc.client import CwcClient
from actionwave.cwc.grammar import FIELDS as CWC_FIELDS
from actionwave.cwc.message import PREFIXES
from actionwave.db import dialect_insert
from actionwave.legislators.index import ZipIndex
from actionwave.mail.consent import consent_text
from actionwave.models import (
    LOCALES,
    Action,
    Campaign,
    CampaignConsent,
    Delivery,
    OutboxMessage,
    Supporter,
)

REQUIRED = ("email", "first_name", "last_name", "zip")
OPTIONAL = ("prefix", "address", "city", "state", "message", "locale", "consent", "district")
HONEYPOT = "website"
ALLOWED = frozenset(REQUIRED + OPTIONAL + (HONEYPOT,))

MAX_LENGTHS = {
    "email": 254,
    "first_name": 100,
    "last_name": 100,
    "address": 200,
    "city": 100,
    "message": 5000,
}
EMAIL_RE = re.compile(
    r"^[^@\s<>\"',;]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+$"
)
ZIP_RE = re.compile(r"^(\d{5})(?:-\d{4})?$")
STATES = frozenset(
    (
        "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ "
        "NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC PR GU VI AS MP"
    ).split()
)
# C0/C1 controls, and the two noncharacters XML can't carry (CWC documents are XML).
CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
SURROGATES = re.compile("[\ud800-\udfff]")
# Bidi embeddings, overrides and isolates: in a name they can make "Kit" display as someone else.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
TRUE = {"1", "true", "on", "yes"}
FALSE = {"0", "false", "off", "no", ""}
ACCEPTED_TOPIC = "action.accepted"


class FieldError(ValueError):
    """A submitted field is missing or invalid. ``status`` is the HTTP status to answer with."""

    def __init__(self, field: str, message: str, status: int = 422,
                 key: str | None = None) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.status = status
        # The interface string that says it to a supporter in their language, if there is one.
        self.key = key


class UnknownCampaign(LookupError):
    """No active campaign has that slug."""


@dataclass(frozen=True)
class ActionForm:
    email: str
    first_name: str
    last_name: str
    zip: str
    prefix: str | None = None
    address: str | None = None
    city: str | None = None
    state: str | None = None
    message: str | None = None
    locale: str = "en"
    consent: bool = False
    district: int | None = None
    honeypot_filled: bool = False


def cwc_fields_needed(settings: Settings, target_chambers: Sequence[str]) -> bool:
    """True when a campaign's supporters reach their representative through CWC (configured,
    and the campaign writes to the House): then CWC's constituent fields are required."""
    return CwcClient.configured(settings) and "house" in target_chambers


def parse_action_form(data: Mapping[str, Any], *, cwc: bool = False) -> ActionForm:
    """Validate a submission (JSON object or form fields); ``FieldError`` names the bad field.

    With ``cwc`` (``cwc_fields_needed``) the fields CWC requires of a constituent are required
    too, within CWC's limits, so nothing accepted is later refused for what a supporter could
    fix. A real town name shorter than CWC's 3 characters is accepted, not padded: the planner
    reaches that office another way and says why (``actionwave.delivery.targets``).
    """
    if not isinstance(data, Mapping):
        raise FieldError("body", "expected a JSON object", 400)
    unknown = sorted(set(data) - ALLOWED)
    if unknown:
        raise FieldError(unknown[0], "unknown field", 400)
    values: dict[str, Any] = {}
    for name in REQUIRED + OPTIONAL:
        raw = data.get(name)
        if name == "consent":
            values[name] = _parse_bool(raw)
            continue
        if raw is None or raw == "":
            if name in REQUIRED:
                raise FieldError(name, "is required")
            continue
        if not isinstance(raw, (str, int)) or isinstance(raw, bool):
            raise FieldError(name, "must be a string")
        values[name] = _clean_text(name, str(raw))
    values["email"] = _parse_email(values["email"])
    values["zip"] = _parse_zip(values["zip"])
    if "state" in values:
        values["state"] = values["state"].upper()
        if values["state"] not in STATES:
            raise FieldError("state", "must be a two-letter U.S. state or territory code")
    if "locale" in values and values["locale"] not in LOCALES:
        raise FieldError("locale", f"must be one of {', '.join(LOCALES)}")
    if "district" in values:
        if not values["district"].isdigit() or int(values["district"]) > 60:
            raise FieldError("district", "must be a district number")
        values["district"] = int(values["district"])
    if "prefix" in values and values["prefix"] not in PREFIXES:
        raise FieldError("prefix", f"must be one of {', '.join(PREFIXES)}")
    if cwc:
        _check_cwc_fields(values)
    honeypot = data.get(HONEYPOT)
    return ActionForm(**values, honeypot_filled=bool(honeypot and str(honeypot).strip()))


def check_district(index: ZipIndex, form: ActionForm) -> None:
    """Refuse a chosen district that is not one of the submitted ZIP's (nor of the given state):
    a choice made for an earlier lookup must not travel with a new ZIP. Raises ``FieldError``
    on ``district``. A ZIP the crosswalk does not know is left to the resolution, which asks
    for the street address."""
    if form.district is None:
        return
    answer = index.answer(form.zip)
    if answer is None:
        return
    if not any(seat["district"] == form.district and form.state in (None, seat["state"])
               for seat in answer["districts"]):
        raise FieldError("district", f"district {form.district} is not a district of ZIP "
                         f"{form.zip}; look up the ZIP again and choose",
                         key="error_district_not_in_zip")


def _check_cwc_fields(values: Mapping[str, Any]) -> None:
    """What CWC requires of a constituent, that a supporter can fix."""
    for name in ("prefix", "address", "city"):
        if not values.get(name):
            raise FieldError(name, "is required to write to your representative through the "
                                   "House's CWC system")
    if CWC_FIELDS["Constituent/Address1"].problem(values["address"]):
        raise FieldError("address", "must be a street address of at least 3 characters")
    message = values.get("message")
    if message and CWC_FIELDS["Message/ConstituentMessage"].problem(message):
        raise FieldError("message", "must be at least 6 characters, or left empty")


def _parse_bool(raw: Any) -> bool:
    if raw is None or isinstance(raw, bool):
        return bool(raw)
    if isinstance(raw, str) and raw.lower() in TRUE | FALSE:
        return raw.lower() in TRUE
    raise FieldError("consent", "must be true or false")


def _clean_text(name: str, value: str) -> str:
    if not (value.isascii() and value.isprintable()):  # most fields need no closer look
        value = _check_characters(name, unicodedata.normalize("NFC", value))
    value = value.strip()
    limit = MAX_LENGTHS.get(name)
    if limit and len(value) > limit:
        raise FieldError(name, f"must be at most {limit} characters")
    if not value and name in REQUIRED:
        raise FieldError(name, "is required")
    return value


def _check_characters(name: str, value: str) -> str:
    """Refuse line breaks outside the message, control characters, lone surrogates, and (outside
    the message) bidi controls."""
    if name != "message" and any(ch in value for ch in "\r\n\x00\u2028\u2029\x85"):
        raise FieldError(name, "must be a single line")
    if CONTROL_CHARS.search(value):
        raise FieldError(name, "contains control characters")
    if SURROGATES.search(value):  # JSON can carry them ("\\ud800"); UTF-8 text cannot
        raise FieldError(name, "contains invalid characters")
    if name != "message" and BIDI_CONTROLS.search(value):
        raise FieldError(name, "contains text-direction control characters")
    return value


def _parse_email(value: str) -> str:
    value = value.strip()
    if not EMAIL_RE.match(value) or ".." in value:
        raise FieldError("email", "is not a valid email address")
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def _parse_zip(value: str) -> str:
    match = ZIP_RE.match(value.strip())
    if not match:
        raise FieldError("zip", "must be a five-digit ZIP code")
    return match.group(1)


def idempotency_key(campaign_slug: str, email: str, when: datetime) -> str:
    """Same supporter, same campaign, same UTC day: the same key."""
    raw = f"{campaign_slug}|{email.lower()}|{when.astimezone(UTC).date().isoformat()}"
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class Submission:
    action_id: uuid.UUID
    status: str
    created: bool


class SubmissionStore(Protocol):
    """Where the web intake stores rows made by ``submission_row``: ``store`` returns once the
    row is committed, with its ``Submission``, or None when the campaign is unknown. ``close``
    lets go of any connection it holds."""

    def store(self, row: dict[str, Any]) -> Submission | None: ...

    def close(self) -> None: ...


def accept_submission(store: SubmissionStore, campaign_slug: str, form: ActionForm, *,
                      ip_hash: str | None = None, source: str = "api") -> Submission:
    """``submit_action`` for the web intake: through ``store``, which commits before it returns.
    Raises ``UnknownCampaign``; database errors propagate."""
    submission = store.store(submission_row(campaign_slug, form, ip_hash=ip_hash, source=source))
    if submission is None:
        raise UnknownCampaign(campaign_slug)
    return submission


def submission_row(campaign_slug: str, form: ActionForm, *, ip_hash: str | None = None,
                   now: datetime | None = None, source: str = "api") -> dict[str, Any]:
    """One submission as the row ``store_submissions`` writes (JSON-ready: it travels as JSON).

    ``source`` says where a consent came from (``form``: the campaign page or its embed; ``api``);
    the consent's text is the box's label in the submission's locale (``mail.consent``).
    """
    now = now or datetime.now(UTC)
    details = {k: v for k, v in (("address", form.address), ("city", form.city),
                                 ("state", form.state), ("district", form.district),
                                 ("prefix", form.prefix)) if v}
    return {
        "slug": campaign_slug, "id": str(uuid.uuid4()), "now": now.isoformat(),
        "key": idempotency_key(campaign_slug, form.email, now),
        "email": form.email, "first_name": form.first_name, "last_name": form.last_name,
        "zip": form.zip, "address": form.address, "city": form.city, "state": form.state,
        "locale": form.locale, "consent": form.consent, "message": form.message,
        "ip_hash": ip_hash, "details": details, "consent_source": source,
        "consent_text": consent_text(form.locale) if form.consent else None,
    }


def submit_action(
    session: Session,
    campaign_slug: str,
    form: ActionForm,
    *,
    ip_hash: str | None = None,
    now: datetime | None = None,
    source: str = "api",
) -> Submission:
    """Store a submission with its supporter and outbox message, and commit.

    Idempotent per supporter, campaign and day: a repeat returns the existing action and queues
    nothing. The profile is updated to the latest submission. A consent to the campaign's mail is
    recorded the first time it is given (even with a repeat) and then kept as it is: a later
    submission neither rewrites nor revives it (``CampaignConsent``).
    Raises ``UnknownCampaign``. Database errors propagate (the web layer answers 503).
    """
    row = submission_row(campaign_slug, form, ip_hash=ip_hash, now=now, source=source)
    [submission] = store_submissions(session.connection(), [row])
    session.commit()
    if submission is None:
        raise UnknownCampaign(campaign_slug)
    return submission


def store_submissions(conn: Connection, rows: Sequence[dict[str, Any]]) -> list[Submission | None]:
    """Write rows from ``submission_row`` (at most one per email) in the caller's transaction:
    one statement for all of them on PostgreSQL, a few per row elsewhere. Returns each row's
    ``Submission``, or None where the campaign is unknown or not active."""
    if conn.dialect.name != "postgresql":
        return [store_submission_portable(conn, row) for row in rows]
    numbered = [{**row, "n": n} for n, row in enumerate(rows)]
    found = conn.execute(SUBMIT_SQL, {"rows": json.dumps(numbered), "topic": ACCEPTED_TOPIC}).all()
    results: list[Submission | None] = [None] * len(rows)
    racing: dict[str, int] = {}
    for n, campaign_id, inserted, existing_id, existing_status in found:
        if campaign_id is None:
            continue
        if inserted is not None:
            results[n] = Submission(inserted, "accepted", created=True)
        elif existing_id is not None:
            results[n] = Submission(existing_id, existing_status, created=False)
        else:  # a concurrent transaction committed the same key after this statement began
            racing[rows[n]["key"]] = n
    if racing:
        for key, action_id, status in conn.execute(
            select(Action.idempotency_key, Action.id, Action.status)
            .where(Action.idempotency_key.in_(racing))
        ):
            results[racing[key]] = Submission(action_id, status, created=False)
    return results


# PostgreSQL: every row of a batch in one statement, one round trip and one commit
# (``actionwave.group_commit``; bench/intake.py). Rows arrive as one JSON array.
SUBMIT_SQL = text("""
WITH i AS (
  SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS t(
    n int, slug text, id uuid, key text, email text, first_name text, last_name text, zip text,
    address text, city text, state text, locale text, consent boolean, message text,
    ip_hash text, details jsonb, now timestamptz, consent_source text, consent_text text)),
c AS (SELECT i.n, campaigns.id FROM i JOIN campaigns ON campaigns.slug = i.slug
      AND campaigns.status = 'active'),
s AS (
  INSERT INTO supporters (email, first_name, last_name, zip, address, city, state, locale,
                          created_at, updated_at)
  SELECT i.email, i.first_name, i.last_name, i.zip, i.address, i.city, i.state, i.locale,
         i.now, i.now FROM i JOIN c ON c.n = i.n
  ON CONFLICT (email) DO UPDATE SET
    first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name, zip = EXCLUDED.zip,
    address = COALESCE(EXCLUDED.address, supporters.address),
    city = COALESCE(EXCLUDED.city, supporters.city),
    state = COALESCE(EXCLUDED.state, supporters.state),
    locale = EXCLUDED.locale, updated_at = EXCLUDED.updated_at
  RETURNING id, email),
a AS (
  INSERT INTO actions (id, campaign_id, supporter_id, status, idempotency_key, message, locale,
                       details, ip_hash, created_at, updated_at)
  SELECT i.id, c.id, s.id, 'accepted', i.key, i.message, i.locale, i.details, i.ip_hash,
         i.now, i.now
  FROM i JOIN c ON c.n = i.n JOIN s ON s.email = i.email
  ON CONFLICT (idempotency_key) DO NOTHING
  RETURNING id, created_at),
o AS (INSERT INTO outbox (topic, ref, created_at) SELECT :topic, a.id::text, a.created_at FROM a),
k AS (
  INSERT INTO campaign_consents (campaign_id, supporter_id, action_id, source, text, locale,
                                 given_at)
  SELECT c.id, s.id, a.id, i.consent_source, i.consent_text, i.locale, i.now
  FROM i JOIN c ON c.n = i.n JOIN s ON s.email = i.email LEFT JOIN a ON a.id = i.id
  WHERE i.consent
  ON CONFLICT (campaign_id, supporter_id) DO NOTHING)
SELECT i.n, c.id, a.id,
  -- scalar subqueries: one index probe per row (a join let the planner scan every action)
  (SELECT id FROM actions e WHERE a.id IS NULL AND e.idempotency_key = i.key),
  (SELECT status FROM actions e WHERE a.id IS NULL AND e.idempotency_key = i.key)
FROM i LEFT JOIN c ON c.n = i.n LEFT JOIN a ON a.id = i.id
""").columns(column("n", Integer), column("campaign_id", Integer), column("inserted", Uuid),
             column("existing_id", Uuid), column("existing_status", String))


def store_submission_portable(conn: Connection, row: dict[str, Any]) -> Submission | None:
    """The same writes as ``SUBMIT_SQL`` for one row, in a few statements (SQLite)."""
    campaign_id = conn.scalar(
        select(Campaign.id).where(Campaign.slug == row["slug"], Campaign.status == "active")
    )
    if campaign_id is None:
        return None
    now = datetime.fromisoformat(row["now"])
    profile = {k: row[k] for k in ("first_name", "last_name", "zip", "locale")}
    profile.update({k: row[k] for k in ("address", "city", "state") if row[k]})
    insert = dialect_insert(conn, Supporter.__table__).values(
        {**profile, "email": row["email"], "created_at": now, "updated_at": now}
    )
    supporter_id = conn.execute(
        insert.on_conflict_do_update(index_elements=["email"],
                                     set_={**profile, "updated_at": now})
        .returning(Supporter.id)
    ).scalar_one()
    action = dialect_insert(conn, Action.__table__).values(
        id=uuid.UUID(row["id"]), campaign_id=campaign_id, supporter_id=supporter_id,
        status="accepted", idempotency_key=row["key"], message=row["message"],
        locale=row["locale"], details=row["details"], ip_hash=row["ip_hash"], created_at=now,
        updated_at=now,
    )
    inserted = conn.execute(
        action.on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(Action.id)
    ).scalar()
    if row["consent"]:
        conn.execute(dialect_insert(conn, CampaignConsent.__table__).values(
            campaign_id=campaign_id, supporter_id=supporter_id, action_id=inserted,
            source=row["consent_source"], text=row["consent_text"], locale=row["locale"],
            given_at=now,
        ).on_conflict_do_nothing(index_elements=["campaign_id", "supporter_id"]))
    if inserted is None:
        existing = conn.execute(
            select(Action.id, Action.status).where(Action.idempotency_key == row["key"])
        ).one()
        return Submission(existing.id, existing.status, created=False)
    conn.execute(OutboxMessage.__table__.insert().values(
        topic=ACCEPTED_TOPIC, ref=str(inserted), created_at=now))
    return Submission(inserted, "accepted", created=True)


def action_status(session: Session, action_id: uuid.UUID) -> dict[str, Any] | None:
    """The public view of an action's progress (no supporter data), or None."""
    action = session.get(Action, action_id)
    if action is None:
        return None
    rows = session.execute(
        select(Delivery.channel, Delivery.state).where(Delivery.action_id == action_id)
    ).all()
    deliveries: dict[str, dict[str, int]] = {}
    for channel, state in rows:
        deliveries.setdefault(channel, {}).setdefault(state, 0)
        deliveries[channel][state] += 1
    status = action.status
    if status == "delivering" and not any(state in ("pending", "sending") for _, state in rows):
        status = "done"  # nothing left to carry: every delivery is sent, failed or dead
    return {
        "id": str(action.id),
        "status": status,
        "created_at": action.created_at.isoformat(),
        "resolved_at": action.resolved_at.isoformat() if action.resolved_at else None,
        "targets": [
            {"name": t.name, "chamber": t.chamber, "state": t.state, "district": t.district}
            for t in action.targets
        ],
        "deliveries": deliveries,
        "error": action.error,
    }
