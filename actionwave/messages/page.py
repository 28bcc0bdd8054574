"""Steps 2 and 3 of the campaign page for the legislators a supporter looked up."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from actionwave.core.models import Campaign
from actionwave.cwc.client import CwcClient
from actionwave.messages.compose_links import ChannelChoice, plan_channels
from actionwave.messages.legislators import LegislatorRef
from actionwave.messages.letters import templates_of, variables, write_letter
from actionwave.messages.models import office_channels, target_addresses
from actionwave.messages.reach import Reach, reach_of
from actionwave.messages.tweets import TweetPlan, plan_tweets
from actionwave.platform.config import Settings


@dataclass(frozen=True)
class PageMessages:
    tweets: TweetPlan
    channels: list[ChannelChoice]
    subject: str
    statement: str
    # Per legislator, what will actually happen (``messages.reach``), in the channels' order.
    reach: list[Reach]
    # Per legislator (bioguide id), the whole letter as the office would read it.
    letters: dict[str, str]


def page_messages(session: Session, settings: Settings, campaign: Campaign,
                  people: Sequence[Mapping[str, Any]], locale: str, *,
                  zip_code: str | None = None,
                  personal: str | None = None) -> PageMessages | None:
    """Tweets and the channel plan for ``people`` (lookup results; vacant seats skipped).

    None when nobody was looked up. Reads only; the statement shown is rendered for the first
    legislator. ``personal`` is the supporter's own text once they sent it (the letters and
    compose links carry it); before, the campaign's suggested text (copy ``email_body``), never
    rendered. ``zip_code`` picks the nearest district office to call.
    """
    legislators = [LegislatorRef.from_mapping(p) for p in people if not p.get("vacant")]
    if not legislators:
        return None
    values = {leg.bioguide_id: variables(campaign, leg, locale) for leg in legislators}
    tweets = plan_tweets([t.body for t in templates_of(campaign, "tweet", locale)], legislators,
                         values)
    email = templates_of(campaign, "email", locale)
    copy = campaign.content.get(locale) or campaign.content.get("en") or {}
    suggestion = personal if personal is not None else str(copy.get("email_body") or "")
    letters = {leg.bioguide_id: write_letter(email[0], values[leg.bioguide_id], suggestion, [])
               for leg in legislators} if email else {}
    first = letters.get(legislators[0].bioguide_id)
    channels = plan_channels(
        legislators, cwc_enabled=CwcClient.configured(settings),
        addresses=target_addresses(session, campaign.id),
        subject=first.subject if first else campaign.title,
        bodies={key: letter.text for key, letter in letters.items()},
        overrides=office_channels(session),
    )
    reach = reach_of(channels, {str(p.get("bioguide_id")): p for p in people}, zip_code)
    return PageMessages(tweets=tweets, channels=channels,
                        subject=first.subject if first else campaign.title,
                        statement=first.organization_statement if first else "", reach=reach,
                        letters={key: letter.text for key, letter in letters.items()})
