"""Tweets: X intent links per legislator, lengths counted as X counts them."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import yaml

from actionwave.messages.legislators import LegislatorRef
from actionwave.messages.templating import render, template_vars
from actionwave.messages.tweets import (
    intent_url,
    plan_tweets,
    weighted_length,
    worst_case,
)
from tests.conftest import CAMPAIGN_FILE

SMITH = LegislatorRef(bioguide_id="S000522", name="Christopher H. Smith", chamber="house",
                      state="NJ", district=4, handle="RepChrisSmith")
NO_HANDLE = LegislatorRef(bioguide_id="X000001", name="Pat Doe", chamber="house", state="GU",
                          district=0)


def values_for(*people: LegislatorRef) -> dict:
    return {p.bioguide_id: template_vars(title=p.title, name=p.name, handle=p.handle,
                                         bill_label="H.R. 2661") for p in people}


def test_latin_text_counts_one_per_character() -> None:
    assert weighted_length("Support H.R. 2661!") == 18


def test_cjk_characters_count_two() -> None:
    assert weighted_length("香港") == 4
    assert weighted_length("請支持 H.R. 2661") == 3 * 2 + 10


def test_every_url_counts_23_whatever_its_length() -> None:
    long = "https://www.congress.gov/bill/119th-congress/house-bill/2661/text?format=txt"
    assert weighted_length(f"Read {long}") == 5 + 23
    assert weighted_length("see congress.gov") == 4 + 23


def test_emoji_sequences_count_two() -> None:
    assert weighted_length("👍🏽") == 2
    assert weighted_length("👨‍👩‍👧") == 2
    assert weighted_length("🇭🇰") == 2


def test_text_is_normalized_before_counting() -> None:
    assert weighted_length("e\u0301") == weighted_length("é") == 1


def test_intent_link_carries_the_exact_text() -> None:
    text = "@RepChrisSmith please support H.R. 2661 & act #HK 香港"
    url = intent_url(text)
    assert url.startswith("https://x.com/intent/tweet?text=")
    assert parse_qs(urlsplit(url).query)["text"] == [text]


def test_each_legislator_with_a_handle_gets_tweets_naming_them() -> None:
    plan = plan_tweets(["{{ legislator.handle }} please back {{ bill.label }}"],
                       [SMITH, NO_HANDLE], values_for(SMITH, NO_HANDLE))
    [entry] = plan.by_legislator
    assert entry.legislator == SMITH
    assert entry.tweets[0].text == "@RepChrisSmith please back H.R. 2661"
    assert plan.without_handle == [NO_HANDLE]


def test_a_tweet_over_280_is_kept_with_its_length_never_dropped() -> None:
    plan = plan_tweets(["{{ legislator.handle }} " + "香" * 140, "{{ legislator.handle }} ok"],
                       [SMITH], values_for(SMITH))
    long, short = plan.by_legislator[0].tweets
    assert long.length == 15 + 280 and not long.fits
    assert short.text == "@RepChrisSmith ok" and short.fits
    assert plan.too_long == [long]


def test_a_tweet_that_leaves_out_the_legislator_is_not_offered_to_them() -> None:
    plan = plan_tweets(["Please back {{ bill.label }}"], [SMITH], values_for(SMITH))
    assert plan.by_legislator[0].tweets == []


def test_worst_case_is_the_rendering_for_the_longest_handle() -> None:
    people = [SMITH, replace(SMITH, bioguide_id="L000001", handle="Fifteen_Chars15"),
              NO_HANDLE]
    worst = worst_case("{{ legislator.handle }} " + "a" * 250, people, values_for(*people))
    assert worst is not None and worst.legislator.handle == "Fifteen_Chars15"
    assert worst.tweet.length == 17 + 250 and worst.fits and worst.unnamed == ()
    over = worst_case("{{ legislator.handle }} " + "a" * 264, people, values_for(*people))
    assert over is not None and over.tweet.length == 281 and not over.fits


def test_worst_case_names_legislators_a_template_leaves_out() -> None:
    template = "{% if legislator.title == 'Rep.' %}{{ legislator.handle }}{% endif %} hi"
    senator = LegislatorRef("S000001", "Pat Senator", "senate", "NJ", None, "SenPat")
    worst = worst_case(template, [SMITH, senator], values_for(SMITH, senator))
    assert worst is not None and worst.unnamed == (senator,)


TRICKY = [
    "see congress.gov", "example.xyz is nice", "https://x.co/abc!", "go to act.example.org/hk, now",
    "(see hketo.org)", "Mr.Smith and the U.S.A. on H.R.2661, e.g. today", "mail x@y.org",
    "#hk.gov $hk.gov", "example.org:8080/x?y=1", "https://example.org/a_(b)",
    "Read https://www.congress.gov/bill/119th-congress/house-bill/2661/text?format=txt.",
    "#StandWithHongKong 🇭🇰👍🏽👨‍👩‍👧 🏳️‍🌈 ❤️ ☺ ✌ ©️ ® 1️⃣ #️⃣", "香港\n\n台灣 …—“” ｆｕｌｌ e\u0301",
    "日本語 😷 https://example.com foo.hk bar.tw baz.museum", "tab\there " + "x" * 300,
]


def test_weighted_length_agrees_with_twitter_text() -> None:
    """The twitter-text port (conformance-tested against X's own suite) is the reference."""
    from twitter_text import parse_tweet

    campaign = yaml.safe_load(CAMPAIGN_FILE.read_text(encoding="utf-8"))
    rendered = [render(body, values_for(SMITH)[SMITH.bioguide_id])
                for bodies in campaign["templates"]["tweet"].values() for body in bodies]
    for text in [*TRICKY, *rendered]:
        assert weighted_length(text) == parse_tweet(text).weightedLength, text
