"""Tweets for each legislator: X intent links with lengths counted the way X counts them.

The count follows twitter-text's version 3 configuration: text is NFC-normalized, each code point
weighs 200 except those in the light ranges (Latin, general punctuation...) that weigh 100, the
total is divided by 100, every URL counts 23, an emoji sequence counts 2; the limit is 280.
A URL is what twitter-text links: ``http(s)://`` anything, or a bare domain ending in a common
generic or any two-letter country TLD, its path ending on a letter, digit or ``/=_#+-``.

Counted here rather than with the ``twitter-text-parser`` port because that one takes about a
millisecond a tweet and 0.4 s to import, and a template is checked against every legislator's
handle; ``tests/test_messages_tweets.py`` holds this count to the port on real and tricky texts.
A template's *worst case* (``worst_case``) is its longest rendering over every legislator it can
address: templates are refused at save over 280 (``actionwave.messages.tweet_limits``).
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

_TLDS = ("com|org|net|gov|edu|mil|int|info|biz|app|dev|news|xyz|online|site|shop|blog|tech"
         "|page|link|live|media|global|world|today|vote|help|foundation|ngo|museum|[a-z]{2}")
# A path or query may not end on punctuation: "see https://x.co/abc!" links "https://x.co/abc".
_PATH = r"(?:[/?#][^\s]*[a-z0-9/=_#+\-)]|[/?#])?"
URL_RE = re.compile(
    r"(?:https?://[^\s/?#]+" + _PATH + r"|(?<![\w@#$.\-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:"
    + _TLDS + r")(?![\w@+\-])(?::[0-9]+)?" + _PATH + ")",
    re.IGNORECASE,
)
_EMOJI = (r"(?:[\U0001F1E6-\U0001F1FF]{2}|[0-9#*]\uFE0F?\u20E3"
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

    @property
    def too_long(self) -> list[Tweet]:
        """Tweets over 280: shown with their length, never silently dropped."""
        return [t for entry in self.by_legislator for t in entry.tweets if not t.fits]


def render_tweet(template: str, variables: TemplateVars) -> Tweet:
    text = render(template, variables).strip()
    return Tweet(text=text, url=intent_url(text), length=weighted_length(text))


def plan_tweets(
    templates: Sequence[str],
    legislators: Sequence[LegislatorRef],
    variables_for: dict[str, TemplateVars],
) -> TweetPlan:
    """Render every tweet template for every legislator who has an X handle.

    ``variables_for`` maps a bioguide id to that legislator's template variables. A tweet that
    does not name the legislator's handle is left out (it would not reach them); one over 280 is
    kept with its length (``Tweet.fits`` False), so the page says so rather than hiding it.
    Templates are refused over 280 when saved; a longer handle arriving with a data sync is what
    can still make one too long.
    """
    ready: list[LegislatorTweets] = []
    missing: list[LegislatorRef] = []
    for legislator in legislators:
        if not legislator.handle:
            missing.append(legislator)
            continue
        tweets = [render_tweet(template, variables_for[legislator.bioguide_id])
                  for template in templates]
        ready.append(LegislatorTweets(
            legislator, [t for t in tweets if f"@{legislator.handle}" in t.text]))
    return TweetPlan(ready, missing)


@dataclass(frozen=True)
class WorstCase:
    """A template's longest rendering, and the legislator it is rendered for."""

    tweet: Tweet
    legislator: LegislatorRef
    unnamed: tuple[LegislatorRef, ...] = ()  # legislators whose handle the rendering leaves out

    @property
    def fits(self) -> bool:
        return self.tweet.fits


def worst_case(template: str, legislators: Sequence[LegislatorRef],
               variables_for: dict[str, TemplateVars]) -> WorstCase | None:
    """The longest rendering of ``template`` over ``legislators`` that have a handle (None when
    none has). Pure; renders once per legislator."""
    worst: WorstCase | None = None
    unnamed = []
    for legislator in legislators:
        if not legislator.handle:
            continue
        tweet = render_tweet(template, variables_for[legislator.bioguide_id])
        if f"@{legislator.handle}" not in tweet.text:
            unnamed.append(legislator)
        if worst is None or tweet.length > worst.tweet.length:
            worst = WorstCase(tweet, legislator)
    if worst is None:
        return None
    return WorstCase(worst.tweet, worst.legislator, tuple(unnamed))
