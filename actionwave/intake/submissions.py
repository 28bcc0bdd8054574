"""Accepting a supporter's submission: validation, then one durable transaction.

``actionwave.intake.storage`` writes the supporter, the action, their consent to the campaign's
mail (when given) and an outbox message together, so an answered submission is on disk before
the reply and reaches the workers even if the broker is down. ``submit_action`` does it with a
session; the web intake goes through a ``SubmissionStore`` (``actionwave.intake.group_commit``),
which writes the rows of concurrent requests together.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from actionwave.core.models import LOCALES, Action, Delivery
from actionwave.cwc.client import CwcClient
from actionwave.cwc.grammar import FIELDS as CWC_FIELDS
from actionwave.cwc.message import PREFIXES
from actionwave.intake.storage import Submission, store_submissions
from actionwave.legislators.index import ZipIndex
from actionwave.mail.consent import consent_text
from actionwave.platform.config import Settings

REQUIRED = ("email", "first_name", "last_name", "zip")
OPTIONAL = ("prefix", "address", "city", "state", "message", "locale", "consent", "district")
HONEYPOT = "website"
ALLOWED = frozenset(REQUIRED + OPTIONAL + (HONEYPOT,))

MAX_LENGTHS = {"email": 254, "first_name": 100, "last_name": 100, "address": 200, "city": 100,
               "message": 5000}
EMAIL_RE = re.compile(
    r"^[^@\s<>\"',;]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+$"
)
ZIP_RE = re.compile(r"^(\d{5})(?:-\d{4})?$")
STATES = frozenset((
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ "
    "NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC PR GU VI AS MP").split())
# C0/C1 controls, and the two noncharacters XML can't carry (CWC documents are XML).
CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
SURROGATES = re.compile("[\ud800-\udfff]")
# Bidi embeddings, overrides and isolates: in a name they can make "Kit" display as someone else.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
TRUE = {"1", "true", "on", "yes"}
FALSE = {"0", "false", "off", "no", ""}


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


def idempotency_key(campaign_slug: str, email: str, when: datetime, secret: str) -> str:
    """Same supporter, same campaign, same UTC day: the same key. An HMAC keyed by the server's
    ``SECRET_KEY``, so the stored key can't be matched by guessing emails (a plain SHA-256 of
    these three could). Keys made before the HMAC stay as they are; a repeat on the day of the
    change is stored once more."""
    raw = f"{campaign_slug}|{email.lower()}|{when.astimezone(UTC).date().isoformat()}"
    return hmac.new(secret.encode(), raw.encode(), hashlib.sha256).hexdigest()


class SubmissionStore(Protocol):
    """Where the web intake stores rows made by ``submission_row``: ``store`` returns once the
    row is committed, with its ``Submission``, or None when the campaign is unknown. ``close``
    lets go of any connection it holds."""

    def store(self, row: dict[str, Any]) -> Submission | None: ...

    def close(self) -> None: ...


def accept_submission(store: SubmissionStore, campaign_slug: str, form: ActionForm, *,
                      secret: str, ip_hash: str | None = None,
                      source: str = "api") -> Submission:
    """``submit_action`` for the web intake: through ``store``, which commits before it returns.
    Raises ``UnknownCampaign``; database errors propagate."""
    submission = store.store(submission_row(campaign_slug, form, secret=secret, ip_hash=ip_hash,
                                            source=source))
    if submission is None:
        raise UnknownCampaign(campaign_slug)
    return submission


def submission_row(campaign_slug: str, form: ActionForm, *, secret: str,
                   ip_hash: str | None = None, now: datetime | None = None,
                   source: str = "api") -> dict[str, Any]:
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
        "key": idempotency_key(campaign_slug, form.email, now, secret),
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
    secret: str = "",
) -> Submission:
    """Store a submission with its supporter and outbox message, and commit.

    Idempotent per supporter, campaign and day: a repeat returns the existing action and queues
    nothing. The profile is updated to the latest submission. A consent to the campaign's mail is
    recorded the first time it is given (even with a repeat) and then kept as it is: a later
    submission neither rewrites nor revives it (``CampaignConsent``).
    ``secret`` (``SECRET_KEY``) keys the idempotency HMAC (``idempotency_key``).
    Raises ``UnknownCampaign``. Database errors propagate (the web layer answers 503).
    """
    row = submission_row(campaign_slug, form, secret=secret, ip_hash=ip_hash, now=now,
                         source=source)
    [submission] = store_submissions(session.connection(), [row])
    session.commit()
    if submission is None:
        raise UnknownCampaign(campaign_slug)
    return submission


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
