"""Watching a campaign's bill: store its actions once, record stage transitions once, announce them.

Every step is idempotent and safe to run in two schedulers at once:
- an action reported by several source systems (House floor, code 2; Library of Congress, code 9)
  has one fingerprint (date + normalized text) and is stored once;
- a transition is a unique (campaign, stage, chamber) row inserted with ON CONFLICT DO NOTHING;
- the announcement is claimed with a lease, and X refuses a duplicate post if a crash left one
  in doubt.

The watcher only records the event; the campaign reacts to each transition not yet
``reacted_at`` (``actionwave.campaigns.reactions``), so the watcher knows neither waves nor
reminders.

A campaign's first poll is a baseline: of the stages the bill had already reached, only the
latest is announced (one post, its waves); the earlier ones are recorded as history.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.orm import Session

from actionwave.bill.congress_api import BillRef, BillSource, BillSourceError
from actionwave.bill.models import BillStageTransition
from actionwave.bill.polls import last_success, rate_limit_hold, record_poll
from actionwave.bill.stages import LOC_SOURCE_CODE, STAGE_LABELS, STAGES, Stage, stage_of
from actionwave.core.channels import Permanent, Retryable
from actionwave.core.counters import bump_counters
from actionwave.core.models import BillAction, Campaign
from actionwave.platform.db import dialect_insert
from actionwave.social.x_poster import Poster

POST_LEASE = timedelta(minutes=2)
# congress.gov can publish an action a little after its bill's updateDate moved.
SINCE_MARGIN = timedelta(minutes=30)
_CHAMBER_PREFIX = re.compile(r"^passed/agreed to in (house|senate):\s*", re.IGNORECASE)
_PARENTHESES = re.compile(r"\([^)]*\)")
_NON_WORD = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class NewTransition:
    id: int
    stage: Stage


@dataclass(frozen=True)
class PollResult:
    """``outcome``: changed (new actions), unchanged, failed (``error``), ``waiting`` out a
    congress.gov rate limit until ``hold_until``, or ``skipped`` (no bill to follow)."""

    outcome: str
    transitions: list[NewTransition] = field(default_factory=list)
    error: BillSourceError | None = None
    hold_until: datetime | None = None


def fingerprint(action: dict[str, Any]) -> str:
    """Same for the same action from any source system: its date and its normalized text."""
    text = _PARENTHESES.sub(" ", _CHAMBER_PREFIX.sub("", action.get("text") or "")).lower()
    normalized = _NON_WORD.sub(" ", text).strip()
    return hashlib.sha256(f"{action.get('actionDate')}|{normalized}".encode()).hexdigest()


def record_bill_actions(session: Session, bill: BillRef, actions: list[dict[str, Any]]) -> int:
    """Store each action once; returns how many were new. Does not commit."""
    merged: dict[str, dict[str, Any]] = {}
    for action in actions:
        key = fingerprint(action)
        stage = stage_of(action)
        row = merged.get(key)
        if row is None:
            merged[key] = row = {
                "congress": bill.congress, "bill_type": bill.bill_type, "bill_number": bill.number,
                "action_date": date.fromisoformat(action["actionDate"]), "action_code": None,
                "text": action.get("text") or "", "source_system": None, "stage": None,
                "fingerprint": key, "raw": action, "fetched_at": datetime.now(UTC),
            }
        source = action.get("sourceSystem") or {}
        if source.get("code") == LOC_SOURCE_CODE or row["source_system"] is None:
            row["action_code"] = row["action_code"] or action.get("actionCode")
            row["source_system"] = source.get("name") or row["source_system"]
            if source.get("code") == LOC_SOURCE_CODE:
                row["action_code"], row["raw"] = action.get("actionCode"), action
        if stage and not row["stage"]:
            row["stage"] = stage.key
    if not merged:
        return 0
    insert = dialect_insert(session, BillAction.__table__).on_conflict_do_nothing(
        index_elements=["congress", "bill_type", "bill_number", "fingerprint"])
    return len(session.execute(insert.returning(BillAction.id), list(merged.values())).all())


def detect_transitions(session: Session, campaign_id: int, bill: BillRef) -> list[NewTransition]:
    """Record each stage the bill has reached as a transition, once.

    The campaign's first detection is a baseline: a bill that had already moved when the
    campaign began watching it is announced once, at its latest stage; the stages before it are
    recorded as ``history`` (never posted, nothing reacts to them), so supporters are not sent a
    burst of old news. Returns only the transitions to announce that this call inserted. Does not
    commit.
    """
    first = (select(BillAction.stage, func.min(BillAction.id).label("id"))
             .where(BillAction.congress == bill.congress, BillAction.bill_type == bill.bill_type,
                    BillAction.bill_number == bill.number, BillAction.stage.is_not(None))
             .group_by(BillAction.stage).subquery())
    rows = sorted(  # in the order they happened; a day's actions by legislative order
        session.scalars(select(BillAction).join(first, first.c.id == BillAction.id)),
        key=lambda a: (a.action_date, *_legislative_order(bill, a.stage or "")),
    )
    baseline = not session.scalar(select(exists().where(
        BillStageTransition.campaign_id == campaign_id)))
    created = []
    for index, action in enumerate(rows):
        stage_name, _, chamber = (action.stage or "").partition(":")
        now = datetime.now(UTC)
        history = baseline and index < len(rows) - 1
        inserted = session.scalar(
            dialect_insert(session, BillStageTransition.__table__).values(
                campaign_id=campaign_id, stage=stage_name, chamber=chamber,
                action_date=action.action_date, action_text=action.text, detected_at=now,
                history=history, posted_at=now if history else None,
                reacted_at=now if history else None,
            ).on_conflict_do_nothing(index_elements=["campaign_id", "stage", "chamber"])
            .returning(BillStageTransition.id)
        )
        if inserted is not None and not history:
            created.append(NewTransition(inserted, Stage(stage_name, chamber)))
    return created


def unreacted_transitions(session: Session, campaign_id: int) -> list[NewTransition]:
    """The campaign's transitions nothing has reacted to yet, oldest first."""
    rows = session.execute(select(BillStageTransition.id, BillStageTransition.stage,
                                  BillStageTransition.chamber).where(
        BillStageTransition.campaign_id == campaign_id, BillStageTransition.reacted_at.is_(None),
    ).order_by(BillStageTransition.id)).all()
    return [NewTransition(row.id, Stage(row.stage, row.chamber)) for row in rows]


def mark_reacted(session: Session, transition_id: int) -> bool:
    """Close a transition once reacted to; False if another process already did. No commit."""
    return bool(session.execute(update(BillStageTransition).where(
        BillStageTransition.id == transition_id, BillStageTransition.reacted_at.is_(None),
    ).values(reacted_at=datetime.now(UTC))).rowcount)


def _legislative_order(bill: BillRef, stage_key: str) -> tuple[int, int]:
    """Orders one day's stages: the chamber of origin's, then the other chamber's (a bill passed
    by the House and received in the Senate the same day), then those of both chambers."""
    stage, _, chamber = stage_key.partition(":")
    origin = "senate" if bill.bill_type.startswith("s") else "house"
    phase = 2 if not chamber else 0 if chamber == origin else 1
    return phase, STAGES.index(stage)


def poll_campaign_bill(session: Session, campaign_id: int, source: BillSource) -> PollResult:
    """Fetch the campaign's bill actions (only if changed), store them, record transitions.

    Never raises for what congress.gov answers: a failure is a ``failed`` result, recorded as the
    campaign's last poll and counted. No transaction is open during the request (it may block up
    to the source's timeout). While congress.gov's ``Retry-After`` runs, nothing is requested.
    Commits. Each poll counts as ``changed``, ``unchanged`` or ``failed`` in ``bill_polls``.
    """
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or not (campaign.bill_congress and campaign.bill_type
                                and campaign.bill_number):
        session.rollback()
        return PollResult("skipped")
    bill = BillRef(campaign.bill_congress, campaign.bill_type.lower(), campaign.bill_number)
    since = last_success(session, campaign_id)
    hold = rate_limit_hold(session)
    session.rollback()  # no transaction (on SQLite: no write lock) held across the request
    if hold is not None:
        return PollResult("waiting", hold_until=hold)
    started = datetime.now(UTC)
    try:
        actions = source.actions(bill, since=since - SINCE_MARGIN if since else None)
    except BillSourceError as exc:
        record_poll(session, campaign_id, started, error=exc)
        bump_counters(session, {"bill_polls:failed": 1})
        session.commit()
        return PollResult("failed", error=exc)
    new = record_bill_actions(session, bill, actions) if actions else 0
    created = detect_transitions(session, campaign_id, bill)
    record_poll(session, campaign_id, started, actions_seen=None if actions is None
                else len(actions), new_actions=new, new_transitions=len(created))
    bump_counters(session, {f"bill_polls:{'changed' if new else 'unchanged'}": 1})
    session.commit()
    return PollResult("changed" if new else "unchanged", created)


def active_bill_campaigns(session: Session) -> list[int]:
    """Ids of active campaigns that follow a bill."""
    return list(session.scalars(select(Campaign.id).where(
        Campaign.status == "active", Campaign.bill_number.is_not(None)).order_by(Campaign.id)))


def announcement(campaign: Campaign, transition: BillStageTransition, public_url: str) -> str:
    where = f" in the {transition.chamber.title()}" if transition.stage in (
        "introduced", "in_committee", "reported") and transition.chamber else ""
    label = campaign.bill_label or campaign.title
    return (f"{label} {STAGE_LABELS[transition.stage]}{where} "
            f"({transition.action_date:%b %-d, %Y}). Act now: "
            f"{public_url.rstrip('/')}/c/{campaign.slug}")


def announce_transitions(session: Session, campaign_id: int, poster: Poster, public_url: str,
                         now: datetime | None = None) -> int:
    """Post each unannounced transition of the campaign once; returns how many were posted.

    A post that fails with ``Retryable`` is tried again on a later call after the provider's
    wait; ``Permanent`` closes it with the reason in ``post_error``. Commits after each post.
    """
    now = now or datetime.now(UTC)
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        return 0
    candidates = session.scalars(select(BillStageTransition.id).where(
        BillStageTransition.campaign_id == campaign_id, BillStageTransition.posted_at.is_(None),
        or_(BillStageTransition.post_lease_until.is_(None),
            BillStageTransition.post_lease_until < now),
    ).order_by(BillStageTransition.id)).all()
    posted = 0
    for transition_id in candidates:
        claimed = session.execute(update(BillStageTransition).where(
            BillStageTransition.id == transition_id, BillStageTransition.posted_at.is_(None),
            or_(BillStageTransition.post_lease_until.is_(None),
                BillStageTransition.post_lease_until < now),
        ).values(post_lease_until=now + POST_LEASE)).rowcount
        session.commit()
        if not claimed:
            continue  # another scheduler took it
        transition = session.get(BillStageTransition, transition_id, populate_existing=True)
        assert transition is not None
        try:
            transition.post_id = poster.post(announcement(campaign, transition, public_url))
            transition.posted_at = datetime.now(UTC)
            posted += 1
        except Retryable as exc:
            transition.post_error = exc.reason
            transition.post_lease_until = now + timedelta(seconds=exc.after or 60)
        except Permanent as exc:
            transition.post_error = exc.reason
            transition.posted_at = datetime.now(UTC)
        session.commit()
    return posted
