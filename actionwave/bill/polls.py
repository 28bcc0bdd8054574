"""What the bill watcher last did for each campaign, for the console, the CLI and the next poll.

``record_poll`` keeps one ``BillPoll`` row per campaign up to date; ``watch_status`` reads it back
with what an organizer needs: when the watcher last polled and last succeeded, what it found, the
exact error and what to do about it, and whether it has been failing for too long (``STALE_AFTER``).
``rate_limit_hold`` is the wait congress.gov asked for: the key is shared by every campaign, so a
429 for one holds them all until it ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from actionwave.bill.congress_api import BillSourceError
from actionwave.bill.models import BillPoll
from actionwave.core.models import Campaign
from actionwave.platform.db import dialect_insert

STALE_AFTER = timedelta(hours=6)

# What an operator does about each kind of failure: the console's ``bill_advice_<kind>`` in English
# (tests/test_bill_polls.py keeps them equal), for the CLI.
ADVICE = {
    "key_missing": "Set CONGRESS_API_KEY (a free key: https://api.congress.gov/sign-up/) and "
                   "restart the worker.",
    "key_refused": "Check CONGRESS_API_KEY for a typo, or sign up for a new key "
                   "(https://api.congress.gov/sign-up/), then restart the worker.",
    "unreachable": "Check this server's internet access and CONGRESS_API_URL. The watcher tries "
                   "again at every poll.",
    "rate_limited": "The watcher waits as congress.gov asked, then polls again. If it recurs, raise"
                    " BILL_POLL_SECONDS or make sure no other program uses the same key.",
    "server_error": "congress.gov is having trouble; the watcher tries again at every poll.",
    "not_found": "Check the bill's congress, type and number in the campaign file.",
    "bad_answer": "The watcher tries again at every poll. If it lasts, check that "
                  "CONGRESS_API_URL is the API (ending in /v3).",
}


@dataclass(frozen=True)
class WatchStatus:
    """One campaign's watcher, as of ``now``. ``last`` is None before its first poll."""

    campaign_id: int
    slug: str
    bill_label: str
    last: BillPoll | None
    hold_until: datetime | None
    stale: bool

    @property
    def advice(self) -> str | None:
        return ADVICE[self.last.error_kind] if self.last and self.last.error_kind else None


def record_poll(session: Session, campaign_id: int, started_at: datetime, *,
                error: BillSourceError | None = None, actions_seen: int | None = None,
                new_actions: int = 0, new_transitions: int = 0) -> None:
    """Record a finished poll as the campaign's last (and, without ``error``, last successful).

    A rate-limited error with a wait sets ``retry_at``. Does not commit: record it in the
    transaction that stores what the poll found.
    """
    now = datetime.now(UTC)
    failed = error is not None
    retry_at = (now + timedelta(seconds=error.after)
                if error is not None and error.kind == "rate_limited" and error.after else None)
    table = BillPoll.__table__
    stmt = dialect_insert(session, table).values(
        campaign_id=campaign_id, started_at=started_at, finished_at=now,
        outcome="failed" if failed else "changed" if new_actions else "unchanged",
        error_kind=error.kind if error else None, error_message=error.reason if error else None,
        actions_seen=actions_seen, new_actions=new_actions, new_transitions=new_transitions,
        retry_at=retry_at, last_success_at=None if failed else started_at,
        failures_in_row=int(failed), polls=1, failures=int(failed))
    replaced = ("started_at", "finished_at", "outcome", "error_kind", "error_message",
                "actions_seen", "new_actions", "new_transitions", "retry_at")
    session.execute(stmt.on_conflict_do_update(index_elements=[table.c.campaign_id], set_={
        **{name: stmt.excluded[name] for name in replaced},
        "polls": table.c.polls + 1,
        "failures": table.c.failures + int(failed),
        "failures_in_row": table.c.failures_in_row + 1 if failed else 0,
        "last_success_at": table.c.last_success_at if failed else stmt.excluded.last_success_at,
    }))


def last_success(session: Session, campaign_id: int) -> datetime | None:
    """When the campaign's last successful poll started."""
    return session.scalar(select(BillPoll.last_success_at)
                          .where(BillPoll.campaign_id == campaign_id))


def rate_limit_hold(session: Session, now: datetime | None = None) -> datetime | None:
    """Until when congress.gov asked us to wait (for any campaign: the key is shared), or None."""
    now = now or datetime.now(UTC)
    until = session.scalar(select(func.max(BillPoll.retry_at)))
    return until if until is not None and until > now else None


def watch_status(session: Session, campaign: Campaign,
                 now: datetime | None = None) -> WatchStatus:
    """The campaign's watcher as the console and ``actionwave bill status`` show it. Reads only.

    ``stale`` when no poll has succeeded in ``STALE_AFTER`` (counted from the campaign's creation
    before any success), for a campaign that follows a bill and is active.
    """
    now = now or datetime.now(UTC)
    last = session.get(BillPoll, campaign.id)
    since = (last.last_success_at if last else None) or campaign.created_at
    follows = campaign.status == "active" and bool(campaign.bill_number)
    return WatchStatus(campaign.id, campaign.slug, campaign.bill_label or campaign.title, last,
                       rate_limit_hold(session, now), follows and since < now - STALE_AFTER)


def stale_campaigns(session: Session, now: datetime | None = None) -> list[WatchStatus]:
    """Active campaigns following a bill whose watcher has not succeeded in ``STALE_AFTER``."""
    campaigns = session.scalars(select(Campaign).where(
        Campaign.status == "active", Campaign.bill_number.is_not(None)).order_by(Campaign.id))
    statuses = [watch_status(session, campaign, now) for campaign in campaigns]
    return [status for status in statuses if status.stale]
