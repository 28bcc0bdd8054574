"""Compose links and the channel chosen for each legislator."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

from actionwave.messages.compose_links import compose_links, cwc_office_code, plan_channels
from actionwave.messages.legislators import LegislatorRef

REP = LegislatorRef(bioguide_id="S000522", name="Christopher H. Smith", chamber="house",
                    state="NJ", district=4)
SENATOR = LegislatorRef(bioguide_id="B001288", name="Cory Booker", chamber="senate", state="NJ",
                        contact_form="https://www.booker.senate.gov/contact/write-to-cory")
LONE = LegislatorRef(bioguide_id="K000001", name="Kim Lone", chamber="senate", state="AK")


def test_mailto_gmail_and_outlook_are_prefilled() -> None:
    body = "Dear Rep. Smith,\n\nPlease support H.R. 2661 & more."
    links = compose_links("staff@example.house.gov", "H.R. 2661", body)

    mailto = urlsplit(links.mailto)
    assert mailto.scheme == "mailto" and unquote(mailto.path) == "staff@example.house.gov"
    assert parse_qs(mailto.query) == {"subject": ["H.R. 2661"], "body": [body]}
    assert "+" not in links.mailto  # mail clients read + literally: spaces are %20
    gmail = parse_qs(urlsplit(links.gmail).query)
    assert gmail["to"] == ["staff@example.house.gov"] and gmail["body"] == [body]
    assert gmail["view"] == ["cm"]
    outlook = parse_qs(urlsplit(links.outlook).query)
    assert outlook["subject"] == ["H.R. 2661"] and outlook["body"] == [body]


def test_very_long_bodies_are_shortened_in_links() -> None:
    links = compose_links("a@example.org", "s", "x" * 10_000)
    assert len(links.mailto) < 3000


def test_house_office_goes_through_cwc_when_configured() -> None:
    [choice] = plan_channels([REP], cwc_enabled=True, addresses={}, subject="s", bodies={})
    assert (choice.channel, choice.cwc_office) == ("cwc", "HNJ04")


def test_without_cwc_an_organizer_address_means_email_with_compose_links() -> None:
    plan = plan_channels([REP, SENATOR], cwc_enabled=False,
                         addresses={"S000522": "staff@example.house.gov"}, subject="s",
                         bodies={"S000522": "Dear Rep. Smith"})
    assert [c.channel for c in plan] == ["email", "contact_form"]
    assert plan[0].compose and "staff@example.house.gov" in plan[0].compose.mailto
    assert plan[1].contact_form == SENATOR.contact_form


def test_senators_never_go_through_house_cwc() -> None:
    [choice] = plan_channels([SENATOR], cwc_enabled=True, addresses={}, subject="s", bodies={})
    assert choice.channel == "contact_form"
    assert cwc_office_code(SENATOR) is None


def test_compose_is_the_channel_when_our_email_is_off() -> None:
    [choice] = plan_channels([REP], cwc_enabled=False, addresses={"S000522": "a@example.org"},
                             subject="s", bodies={}, email_enabled=False)
    assert choice.channel == "compose" and choice.compose is not None


def test_no_channel_at_all_says_so() -> None:
    [choice] = plan_channels([LONE], cwc_enabled=False, addresses={}, subject="s", bodies={})
    assert choice.channel == "none"
