"""What organizers do with supporter records: search, export, and erase on request."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy import (
    ColumnElement,
    String,
    cast,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from actionwave.core.models import Action, CampaignConsent, Delivery, Reminder, Supporter
from actionwave.mail.consent import VIA_ERASED, consents_of, withdraw_consent
from actionwave.mail.models import MailEvent

SUPPORTER_COLUMNS = ("id", "email", "first_name", "last_name", "city", "state", "zip",
                     "district", "locale", "unsubscribed_at", "created_at")
EXPORT_COLUMNS = (*SUPPORTER_COLUMNS, "consent", "consent_given_at")
# Spreadsheet programs read the file as UTF-8 only with it (as the coverage export does).
BOM = "\ufeff"
ERASED_REASON = "erased"


class NoSuchSupporter(LookupError):
    """No supporter has this id."""


def search_supporters(session: Session, campaign_id: int, text: str,
                      limit: int = 50) -> list[Supporter]:
    """The campaign's supporters (who acted on it or consented to its mail) whose email, name or
    ZIP contains ``text`` (case-insensitive), newest first. An empty ``text`` lists the newest.
    Erased supporters are left out."""
    query = select(Supporter).where(_not_erased(), _of_campaign(campaign_id))
    text = text.strip().lower()
    if text:
        like = f"%{text.replace('%', '').replace('_', '')}%"
        query = query.where(or_(
            func.lower(Supporter.email).like(like),
            func.lower(Supporter.first_name + " " + Supporter.last_name).like(like),
            Supporter.zip.like(like),
        ))
    return list(session.scalars(query.order_by(Supporter.id.desc()).limit(limit)))


def export_csv(session: Session, campaign_id: int, batch: int = 1000) -> Iterator[str]:
    """The campaign's supporters (who acted on it or consented to its mail) as CSV, with their
    consent to its mail (``consent``: given, withdrawn or empty): a byte-order mark and the header,
    then one chunk per ``batch`` rows. Erased supporters are left out.

    No transaction stays open while a chunk goes out: the session's transaction is ended before
    the first chunk (committing anything pending), and each chunk is read by keyset pagination in
    a short read of its own, ended before it is yielded. So a slow download never holds a lock
    (on SQLite every transaction takes the write lock), and memory stays flat for any size.
    """
    session.commit()
    out = io.StringIO()
    writer = csv.writer(out)
    out.write(BOM)
    writer.writerow(EXPORT_COLUMNS)
    yield _drain(out)
    after = 0
    while True:
        rows = session.scalars(
            select(Supporter).where(Supporter.id > after, _not_erased(), _of_campaign(campaign_id))
            .order_by(Supporter.id).limit(batch)
        ).all()
        consents = consents_of(session, campaign_id, [row.id for row in rows])
        for row in rows:
            consent = consents.get(row.id)
            writer.writerow([_cell(getattr(row, column)) for column in SUPPORTER_COLUMNS]
                            + _consent_cells(consent))
        more = len(rows) == batch
        after = rows[-1].id if rows else after
        session.rollback()  # the read is over: end its transaction before the chunk goes out
        session.expunge_all()
        if out.tell():
            yield _drain(out)
        if not more:
            return


def _drain(out: io.StringIO) -> str:
    text = out.getvalue()
    out.seek(0)
    out.truncate()
    return text


def _not_erased() -> ColumnElement[bool]:
    return or_(Supporter.suppressed_reason.is_(None), Supporter.suppressed_reason != ERASED_REASON)


def _of_campaign(campaign_id: int) -> ColumnElement[bool]:
    return or_(exists().where(Action.supporter_id == Supporter.id,
                              Action.campaign_id == campaign_id),
               exists().where(CampaignConsent.supporter_id == Supporter.id,
                              CampaignConsent.campaign_id == campaign_id))


def _consent_cells(consent: CampaignConsent | None) -> list[object]:
    if consent is None:
        return ["", ""]
    state = "withdrawn" if consent.withdrawn_at is not None else "given"
    return [state, _cell(consent.given_at)]


def _cell(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    # A cell starting with = + - @ would run as a formula in a spreadsheet.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def erase_supporter(session: Session, supporter_id: int) -> None:
    """Remove a supporter's personal data on their request, keeping every count honest.

    The supporter row stays (so actions and deliveries still count) with name, email and address
    replaced; their messages, submitted details and address hashes are cleared; their sent or
    failed deliveries keep their state but lose recipient and content; unsent ones (pending, dead)
    are deleted so nothing more goes out in their name; open reminders are cancelled and every
    consent withdrawn (the records stay, to show what was agreed and when); mail events
    about their address are anonymised. Idempotent. Raises ``NoSuchSupporter``. Commits.
    """
    supporter = session.get(Supporter, supporter_id)
    if supporter is None:
        raise NoSuchSupporter(supporter_id)
    now = datetime.now(UTC)
    placeholder = f"erased-{supporter_id}@erased.invalid"
    old_email = supporter.email
    action_ids = select(Action.id).where(Action.supporter_id == supporter_id)
    mine = or_(Delivery.supporter_id == supporter_id, Delivery.action_id.in_(action_ids))
    session.execute(delete(Delivery).where(mine, Delivery.state.in_(("pending", "dead"))))
    session.execute(update(Delivery).where(mine).values(
        recipient=None, payload={}, last_error=None, updated_at=now))
    # The idempotency key was derived from the email (older rows: a plain SHA-256 of it, which
    # a guess can match): replaced by one that says nothing.
    session.execute(update(Action).where(Action.supporter_id == supporter_id).values(
        message=None, details={}, ip_hash=None, error=None,
        idempotency_key=literal("erased:") + cast(Action.id, String)))
    session.execute(update(Reminder).where(Reminder.supporter_id == supporter_id,
                                           Reminder.sent_at.is_(None),
                                           Reminder.cancelled_at.is_(None))
                    .values(cancelled_at=now, outcome=ERASED_REASON))
    if old_email != placeholder:
        session.execute(update(MailEvent).where(func.lower(MailEvent.email) == old_email.lower())
                        .values(email=placeholder))
    supporter.email = placeholder
    supporter.first_name = ""
    supporter.last_name = ""
    supporter.address = None
    supporter.city = None
    supporter.zip = ""
    withdraw_consent(session, supporter_id, None, via=VIA_ERASED, reason=ERASED_REASON, now=now)
    supporter.unsubscribed_at = supporter.unsubscribed_at or now
    supporter.suppressed_reason = ERASED_REASON
    session.commit()
