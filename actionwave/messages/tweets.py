"""Tweets for each legislator: X intent links with lengths counted the way X counts them.

The count follows twitter-text's version 3 configuration: text is NFC-normalized, each code point
weighs 200 except those in the light ranges (Latin, general punctuation...) that weigh 100, the
total is divided by 100, every URL counts 23, an emoji sequence counts 2; the limit is 280.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from actionwave.messages.legislators import LegislatorRef
from actionwave.messages.templating import TemplateVars, render

MAX_WEIGHTED_LENGTH = 280
URL_LENGTH = 23
SCALE = 100
DEFAULT_WEIGHT = 200
LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
INTENT_URL = "https://x.com/intent/tweet?text="

_TLDS = "com|org|net|gov|edu|io|co|us|hk|ly|me|info|app|dev|news"
URL_RE = re.compile(
    r"(?:https?://[^\s]+|(?<![\w@.])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:" + _TLDS
    + r")\b(?:/[^\s]*)?)",
    re.IGNORECASE,
)
_EMOJI = (r"(?:[\U0001F1E6-\U0001F1FF]{2}"
          r"|[\u2600-\u27BF\U0001F000-\U0001FAFF](?:\uFE0F|[\U0001F3FB-\U0001F3FF])*"
          r"(?:\u200D[\u2600-\u27BF\U0001F000-\U0001FAFF](?:\uFE0F|[\U0001F3FB-\U0001F3FF])*)*)")
EMOJI_RE = re.compile(_EMOJI)


def weighted_length(text: str) -> int:
    """The length X shows for ``text`` (``280`` is the most a tweet may have)."""
    text = unicodedata.normalize("NFC", text)
    units = 0
    for url in URL_RE.findall(text):
        units += URL_LENGTH * SCALE
        text = text.replace(url, "", 1)
    for emoji in EMOJI_RE.findall(text):
        units += DEFAULT_WEIGHT
        text = text.replace(emoji, "", 1)
    for char in text:
        point = ord(char)
        light = any(low <= point <= high for low, high in LIGHT_RANGES)
        units += SCALE if light else DEFAULT_WEIGHT
    return units // SCALE


def intent_url(text: str) -> str:
    return INTENT_URL + quote(text, safe="")


@dataclass(frozen=True)
class Tweet:
    text: str
    url: str
    length: int

    @property
    def fits(self) -> bool:
        return self.length <= MAX_WEIGHTED_LENGTH


@dataclass(frozen=True)
class LegislatorTweets:
    legislator: LegislatorRef
    tweets: list[Tweet]


@dataclass(frozen=True)
class TweetPlan:
    """Ready tweets per legislator with a handle; ``without_handle`` are left out, with a note."""

    by_legislator: list[LegislatorTweets]
    without_handle: list[LegislatorRef]


def plan_tweets(
    templates: Sequence[str],
    legislators: Sequence[LegislatorRef],
    variables_for: dict[str, TemplateVars],
) -> TweetPlan:
    """Render every tweet template for every legislator who has an X handle.

    ``variables_for`` maps a bioguide id to that legislator's template variables. Tweets over
    280 are dropped, so a supporter is never handed one X would refuse.
    """
    ready: list[LegislatorTweets] = []
    missing: list[LegislatorRef] = []
    for legislator in legislators:
        if not legislator.handle:
            missing.append(legislator)
            continue
        tweets = []
        for template in templates:
            text = render(template, variables_for[legislator.bioguide_id]).strip()
            tweet = Tweet(text=text, url=intent_url(text), length=weighted_length(text))
            if tweet.fits and f"@{legislator.handle}" in text:
                tweets.append(tweet)
        ready.append(LegislatorTweets(legislator, tweets))
    return TweetPlan(ready, missing)
