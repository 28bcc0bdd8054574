"""Tweets: X intent links per legislator, lengths counted as X counts them."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from actionwave.messages.legislators import LegislatorRef
from actionwave.messages.templating import template_vars
from actionwave.messages.tweets import (
    MAX_WEIGHTED_LENGTH,
    intent_url,
    plan_tweets,
    weighted_length,
)

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


def test_tweets_over_280_are_not_offered() -> None:
    plan = plan_tweets(["{{ legislator.handle }} " + "香" * 140, "{{ legislator.handle }} ok"],
                       [SMITH], values_for(SMITH))
    tweets = plan.by_legislator[0].tweets
    assert [t.text for t in tweets] == ["@RepChrisSmith ok"]
    assert all(t.length <= MAX_WEIGHTED_LENGTH for t in tweets)
