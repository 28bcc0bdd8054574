"""What happened, and what will, with one supporter's message: the thanks and status pages.

Before the worker resolves the action, the legislators come from the supporter's ZIP and chosen
district (no geocoding inside a web request); after, from the stored targets, and each line
says its delivery's state in words a person reads: sent, on its way, failed (we will retry),
failed, or "your turn" where no channel of ours carries the message.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from actionwave.calls.services import calls_of
from actionwave.core.models import Action, Campaign, Delivery, Supporter, Target
from actionwave.legislators.index import ZipIndex
from actionwave.legislators.lookup import ZipNotFound, find_legislators
from actionwave.messages.page import page_messages
from actionwave.messages.reach import DELIVERING_CHANNELS, Reach
from actionwave.platform.config import Settings


@dataclass(frozen=True)
class Outcome:
    action: Action
    campaign: Campaign
    # One line per legislator, with its state (None before the action is resolved).
    lines: list[tuple[Reach, str | None]]
    letters: dict[str, str]
    resolved: bool
    # The offices the supporter reported calling ("I called").
    called: frozenset[str] = frozenset()


def delivery_state(states: list[tuple[str, int]]) -> str:
    """One legislator's state from their office deliveries' (state, attempts)."""
    found = {state for state, _ in states}
    if "sent" in found:
        return "sent"
    if found & {"pending", "sending"}:
        retried = any(attempts for state, attempts in states if state in ("pending", "sending"))
        return "retrying" if retried else "pending"
    return "failed"


def message_outcome(session: Session, settings: Settings, index: ZipIndex | None,
                    action_id: uuid.UUID) -> Outcome | None:
    """The outcome of ``action_id``, or None for an unknown action. Reads only."""
    action = session.get(Action, action_id)
    if action is None:
        return None
    campaign = session.get(Campaign, action.campaign_id)
    supporter = session.get(Supporter, action.supporter_id)
    if campaign is None or supporter is None:
        return None
    targets = list(session.scalars(
        select(Target).where(Target.action_id == action_id).order_by(Target.id)))
    resolved = action.status not in ("accepted",)
    people = ([{**(t.info or {}), "bioguide_id": t.bioguide_id, "name": t.name,
                "chamber": t.chamber, "state": t.state, "district": t.district}
               for t in targets] if resolved
              else _looked_up(index, supporter, action, campaign.target_chambers or []))
    messages = page_messages(session, settings, campaign, people, action.locale,
                             zip_code=supporter.zip, personal=action.message or "")
    called = frozenset(calls_of(session, action_id))
    if messages is None:
        return Outcome(action, campaign, [], {}, resolved, called)
    by_target: dict[str, list[tuple[str, int]]] = {}
    channels: dict[str, set[str]] = {}
    if resolved:
        bioguide_of = {t.id: t.bioguide_id for t in targets}
        for target_id, channel, state, attempts in session.execute(
                select(Delivery.target_id, Delivery.channel, Delivery.state, Delivery.attempts)
                .where(Delivery.action_id == action_id, Delivery.target_id.is_not(None))):
            bioguide = bioguide_of.get(target_id)
            if bioguide and channel in DELIVERING_CHANNELS:
                by_target.setdefault(bioguide, []).append((state, attempts))
                channels.setdefault(bioguide, set()).add(channel)
    lines: list[tuple[Reach, str | None]] = []
    for reach in messages.reach:
        bioguide = reach.choice.legislator.bioguide_id
        if not resolved:
            lines.append((reach, None))
        elif bioguide in by_target:  # the rows are the truth of what carries it
            lines.append((replace(reach, delivered=True), delivery_state(by_target[bioguide])))
        else:
            lines.append((replace(reach, delivered=False), "your_turn"))
    return Outcome(action, campaign, lines, messages.letters, resolved, called)


def _looked_up(index: ZipIndex | None, supporter: Supporter, action: Action,
               chambers: list[str]) -> list[Mapping[str, Any]]:
    if index is None:
        return []
    details = action.details or {}
    try:
        answer = find_legislators(index, supporter.zip, district=details.get("district"),
                                  state=details.get("state")).answer
    except ZipNotFound:
        return []
    people = list(answer["senators"]) if "senate" in chambers else []
    if "house" in chambers and not answer["ambiguous"]:
        people += [rep for rep in answer["representatives"] if not rep.get("vacant")]
    return people

