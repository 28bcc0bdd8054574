"""Accepting a supporter's submission: validation, then one durable transaction.

``submit_action`` writes the supporter, the action and an outbox message together, so an answered
submission is on disk before the reply and reaches the workers even if the broker is down.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Integer, Uuid, bindparam, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from actionwave.db import dialect_insert, is_postgres
from actionwave.models import LOCALES, Action, Campaign, Delivery, OutboxMessage, Supporter

REQUIRED = ("email", "first_name", "last_name", "zip")
OPTIONAL = ("address", "city", "state", "message", "locale", "consent", "district")
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
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Bidi embeddings, overrides and isolates: in a name they can make "Kit" display as someone else.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
TRUE = {"1", "true", "on", "yes"}
FALSE = {"0", "false", "off", "no", ""}
ACCEPTED_TOPIC = "action.accepted"


class FieldError(ValueError):
    """A submitted field is missing or invalid. ``status`` is the HTTP status to answer with."""

    def __init__(self, field: str, message: str, status: int = 422) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.status = status


class UnknownCampaign(LookupError):
    """No active campaign has that slug."""


@dataclass(frozen=True)
class ActionForm:
    email: str
    first_name: str
    last_name: str
    zip: str
    address: str | None = None
    city: str | None = None
    state: str | None = None
    message: str | None = None
    locale: str = "en"
    consent: bool = False
    district: int | None = None
    honeypot_filled: bool = False


def parse_action_form(data: Mapping[str, Any]) -> ActionForm:
    """Validate a submission (JSON object or form fields); ``FieldError`` names the bad field."""
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
    honeypot = data.get(HONEYPOT)
    return ActionForm(**values, honeypot_filled=bool(honeypot and str(honeypot).strip()))


def _parse_bool(raw: Any) -> bool:
    if raw is None or isinstance(raw, bool):
        return bool(raw)
    if isinstance(raw, str) and raw.lower() in TRUE | FALSE:
        return raw.lower() in TRUE
    raise FieldError("consent", "must be true or false")


def _clean_text(name: str, value: str) -> str:
    value = unicodedata.normalize("NFC", value)
    if name != "message" and any(ch in value for ch in "\r\n\x00\u2028\u2029\x85"):
        raise FieldError(name, "must be a single line")
    if CONTROL_CHARS.search(value):
        raise FieldError(name, "contains control characters")
    if name != "message" and BIDI_CONTROLS.search(value):
        raise FieldError(name, "contains text-direction control characters")
    value = value.strip()
    limit = MAX_LENGTHS.get(name)
    if limit and len(value) > limit:
        raise FieldError(name, f"must be at most {limit} characters")
    if not value and name in REQUIRED:
        raise FieldError(name, "is required")
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


def submit_action(
    session: Session,
    campaign_slug: str,
    form: ActionForm,
    *,
    ip_hash: str | None = None,
    now: datetime | None = None,
) -> Submission:
    """Store a submission with its supporter and outbox message, and commit.

    Idempotent per supporter, campaign and day: a repeat returns the existing action and queues
    nothing. The profile is updated to the latest submission; consent once given is kept.
    Raises ``UnknownCampaign``. Database errors propagate (the web layer answers 503).
    """
    now = now or datetime.now(UTC)
    row = {
        "slug": campaign_slug, "id": uuid.uuid4(), "now": now,
        "key": idempotency_key(campaign_slug, form.email, now),
        "email": form.email, "first_name": form.first_name, "last_name": form.last_name,
        "zip": form.zip, "address": form.address, "city": form.city, "state": form.state,
        "locale": form.locale, "consent": form.consent,
        "message": form.message, "ip_hash": ip_hash, "topic": ACCEPTED_TOPIC,
        "details": {k: v for k, v in (("address", form.address), ("city", form.city),
                                      ("state", form.state), ("district", form.district)) if v},
    }
    store = store_submission_postgres if is_postgres(session) else store_submission_portable
    campaign_id, inserted = store(session, row)
    if campaign_id is None:
        session.rollback()
        raise UnknownCampaign(campaign_slug)
    if inserted is not None:
        session.commit()
        return Submission(row["id"], "accepted", created=True)
    existing = session.execute(
        select(Action.id, Action.status).where(Action.idempotency_key == row["key"])
    ).one()
    session.commit()
    return Submission(existing.id, existing.status, created=False)


# PostgreSQL: the whole submission in one statement, one round trip (see bench/intake.py).
SUBMIT_SQL = text("""
WITH c AS (SELECT id FROM campaigns WHERE slug = :slug AND status = 'active'),
s AS (
  INSERT INTO supporters (email, first_name, last_name, zip, address, city, state, locale,
                          consent, created_at, updated_at)
  SELECT :email, :first_name, :last_name, :zip, :address, :city, :state, :locale,
         :consent, :now, :now FROM c
  ON CONFLICT (email) DO UPDATE SET
    first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name, zip = EXCLUDED.zip,
    address = COALESCE(EXCLUDED.address, supporters.address),
    city = COALESCE(EXCLUDED.city, supporters.city),
    state = COALESCE(EXCLUDED.state, supporters.state),
    locale = EXCLUDED.locale, consent = supporters.consent OR EXCLUDED.consent,
    updated_at = EXCLUDED.updated_at
  RETURNING id),
a AS (
  INSERT INTO actions (id, campaign_id, supporter_id, status, idempotency_key, message, locale,
                       details, ip_hash, created_at, updated_at)
  SELECT :id, c.id, s.id, 'accepted', :key, :message, :locale, :details, :ip_hash, :now, :now
  FROM c, s
  ON CONFLICT (idempotency_key) DO NOTHING
  RETURNING id),
o AS (INSERT INTO outbox (topic, ref, created_at) SELECT :topic, a.id::text, :now FROM a)
SELECT (SELECT id FROM c) AS campaign_id, (SELECT id FROM a) AS inserted
""").bindparams(bindparam("details", type_=JSONB), bindparam("id", type_=Uuid)).columns(
    campaign_id=Integer, inserted=Uuid
)


def store_submission_postgres(session: Session, row: dict[str, Any]) -> tuple[Any, Any]:
    """Run ``SUBMIT_SQL``. A session of its own (bound to the engine, nothing begun yet) runs it
    in autocommit: PostgreSQL makes one statement atomic by itself, and the BEGIN and COMMIT
    round trips were a third of the intake's time under load (bench/launch.py)."""
    if not session.in_transaction() and isinstance(session.get_bind(), Engine):
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    result = session.execute(SUBMIT_SQL, row).one()
    return result.campaign_id, result.inserted


def store_submission_portable(session: Session, row: dict[str, Any]) -> tuple[Any, Any]:
    """The same writes as ``SUBMIT_SQL`` in three statements, for SQLite."""
    campaign_id = session.scalar(
        select(Campaign.id).where(Campaign.slug == row["slug"], Campaign.status == "active")
    )
    if campaign_id is None:
        return None, None
    profile = {k: row[k] for k in ("first_name", "last_name", "zip", "locale")}
    profile.update({k: row[k] for k in ("address", "city", "state") if row[k]})
    insert = dialect_insert(session, Supporter.__table__).values(
        {**profile, "email": row["email"], "consent": row["consent"],
         "created_at": row["now"], "updated_at": row["now"]}
    )
    updates = {**profile, "updated_at": row["now"]}
    if row["consent"]:
        updates["consent"] = True
    supporter_id = session.execute(
        insert.on_conflict_do_update(index_elements=["email"], set_=updates)
        .returning(Supporter.id)
    ).scalar_one()
    action = dialect_insert(session, Action.__table__).values(
        id=row["id"], campaign_id=campaign_id, supporter_id=supporter_id, status="accepted",
        idempotency_key=row["key"], message=row["message"], locale=row["locale"],
        details=row["details"], ip_hash=row["ip_hash"], created_at=row["now"],
        updated_at=row["now"],
    )
    inserted = session.execute(
        action.on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(Action.id)
    ).scalar()
    if inserted is not None:
        session.execute(OutboxMessage.__table__.insert().values(
            topic=ACCEPTED_TOPIC, ref=str(inserted), created_at=row["now"]))
    return campaign_id, inserted


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
    return {
        "id": str(action.id),
        "status": action.status,
        "created_at": action.created_at.isoformat(),
        "resolved_at": action.resolved_at.isoformat() if action.resolved_at else None,
        "targets": [
            {"name": t.name, "chamber": t.chamber, "state": t.state, "district": t.district}
            for t in action.targets
        ],
        "deliveries": deliveries,
        "error": action.error,
    }
