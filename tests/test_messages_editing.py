"""Tweet templates are measured for every legislator they can address, at save and at load."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from actionwave.campaigns.files import CampaignFileError, load_campaign
from actionwave.core.models import Campaign, MessageTemplate
from actionwave.messages.editing import (
    Draft,
    addressable_legislators,
    save_template_group,
    tweet_template_problems,
)
from tests.conftest import CAMPAIGN_FILE

# With "@" + a handle + " " in front, the body is 280 exactly for a 15-character handle.
FITS_LONGEST = "{{ legislator.handle }} " + "x" * (280 - 17)


@pytest.fixture
def campaign(db_session: Session) -> Campaign:
    return load_campaign(db_session, CAMPAIGN_FILE)


def tweet_body(session: Session, name: str = "1", locale: str = "en") -> str:
    return session.scalar(select(MessageTemplate.body).where(
        MessageTemplate.kind == "tweet", MessageTemplate.name == name,
        MessageTemplate.locale == locale))


def test_the_longest_handle_is_fifteen_characters(db_session: Session):
    handles = [leg.handle for leg in addressable_legislators(db_session, ["house", "senate"])]
    assert len(handles) > 400 and max(len(h) for h in handles) == 15


def test_a_tweet_fitting_the_longest_handle_is_saved(db_session: Session, campaign: Campaign):
    drafts = {"en": Draft("en", "", FITS_LONGEST), "zh-Hant": Draft("zh-Hant", "", "{{ "
              "legislator.handle }} 請支持")}
    assert save_template_group(db_session, campaign, "tweet", "1", drafts) == []
    assert tweet_body(db_session) == FITS_LONGEST


def test_a_tweet_over_280_for_the_longest_handle_is_refused_naming_it(db_session: Session,
                                                                      campaign: Campaign):
    before = tweet_body(db_session)
    drafts = {"en": Draft("en", "", FITS_LONGEST + "!"),
              "zh-Hant": Draft("zh-Hant", "", "{{ legislator.handle }} " + "香" * 132)}
    problems = save_template_group(db_session, campaign, "tweet", "1", drafts)
    assert [p.field for p in problems] == ["body-en", "body-zh-Hant"]
    english, chinese = problems
    assert english.code == "tweet_too_long" and english.params["length"] == 281
    assert len(english.params["handle"]) == 16 and english.params["over"] == 1
    assert "281 of 280" in english.message and english.params["handle"] in english.message
    assert chinese.params["length"] == 17 + 264
    assert tweet_body(db_session) == before


def test_a_tweet_that_leaves_out_the_handle_is_refused(db_session: Session,
                                                      campaign: Campaign):
    drafts = {"en": Draft("en", "", "Please back {{ bill.label }}"),
              "zh-Hant": Draft("zh-Hant", "", tweet_body(db_session, locale="zh-Hant"))}
    [problem] = save_template_group(db_session, campaign, "tweet", "1", drafts)
    assert problem.code == "tweet_unnamed" and problem.params["n"] > 400


def test_only_members_of_the_campaigns_chambers_count(db_session: Session, campaign: Campaign):
    house_only = "{% if legislator.title != 'Sen.' %}{{ legislator.handle }}{% endif %} hi"
    drafts = {"en": Draft("en", "", house_only),
              "zh-Hant": Draft("zh-Hant", "", tweet_body(db_session, locale="zh-Hant"))}
    [senators_left_out] = save_template_group(db_session, campaign, "tweet", "1", drafts)
    assert senators_left_out.params["n"] == len(addressable_legislators(db_session, ["senate"]))
    campaign.target_chambers = ["house"]
    assert save_template_group(db_session, campaign, "tweet", "1", drafts) == []


def test_campaign_load_refuses_a_tweet_too_long_with_the_worst_case(db_session: Session,
                                                                    tmp_path: Path):
    data = yaml.safe_load(CAMPAIGN_FILE.read_text(encoding="utf-8"))
    data["slug"] = "long-tweets"  # a new campaign: an existing one is never re-seeded
    data["templates"]["tweet"]["zh-Hant"][1] = "{{ legislator.handle }} " + "香" * 132
    path = tmp_path / "long.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CampaignFileError) as refused:
        load_campaign(db_session, path)
    message = str(refused.value)
    assert "templates.tweet.zh-Hant[2]" in message and "281 of 280" in message
    assert db_session.scalar(select(Campaign).where(Campaign.slug == data["slug"])) is None


def test_a_stored_template_too_long_for_a_new_handle_is_reported(db_session: Session,
                                                                 campaign: Campaign):
    row = db_session.scalar(select(MessageTemplate).where(
        MessageTemplate.campaign_id == campaign.id, MessageTemplate.kind == "tweet",
        MessageTemplate.locale == "en", MessageTemplate.name == "3"))
    row.body = FITS_LONGEST + " and more"
    db_session.flush()
    db_session.expire(campaign, ["templates"])
    problems = tweet_template_problems(db_session, campaign)
    assert list(problems) == [("tweet", "3")]
    assert problems[("tweet", "3")][0].params["length"] == 289
