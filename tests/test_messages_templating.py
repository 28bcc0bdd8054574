"""Campaign templates: validated at load time, sandboxed, supporter text never rendered."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from actionwave.campaigns.files import CampaignFileError, load_campaign
from actionwave.messages.legislators import LegislatorRef
from actionwave.messages.letters import templates_of, variables, write_letter
from actionwave.messages.templating import TemplateError, check_template, render, template_vars
from tests.conftest import CAMPAIGN_FILE

SMITH = LegislatorRef(bioguide_id="S000522", name="Christopher H. Smith", chamber="house",
                      state="NJ", district=4, handle="RepChrisSmith")


def campaign_with(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(
        "slug: broken\ntitle: Broken\ntemplates:\n  email:\n    en:\n      subject: Hi\n"
        "      body: |\n" + "".join(f"        {line}\n" for line in body.splitlines()),
        encoding="utf-8")
    return path


def test_example_campaign_loads_with_every_template(db_session: Session) -> None:
    campaign = load_campaign(db_session, CAMPAIGN_FILE)
    kinds = {(t.kind, t.locale) for t in campaign.templates}
    for kind in ("email", "tweet", "confirmation", "reminder"):
        assert {(kind, "en"), (kind, "zh-Hant")} <= kinds
    assert len(templates_of(campaign, "tweet", "en")) >= 3


def test_unknown_variable_is_refused_naming_file_and_line(db_session: Session,
                                                          tmp_path: Path) -> None:
    path = campaign_with(tmp_path, "Dear {{ legislator.name }},\n\nFrom {{ supporter.email }}")
    with pytest.raises(CampaignFileError) as caught:
        load_campaign(db_session, path)
    message = str(caught.value)
    assert str(path) in message
    assert "line 10" in message  # the file line of "From {{ supporter.email }}"
    assert "supporter.email" in message


def test_unknown_top_level_name_is_refused() -> None:
    with pytest.raises(TemplateError, match="unknown variable 'donor'"):
        check_template("Hello {{ donor }}", "t")


def test_syntax_error_is_refused_with_its_line(db_session: Session, tmp_path: Path) -> None:
    path = campaign_with(tmp_path, "Dear {{ legislator.name }},\n{% if ask %}\nno end")
    with pytest.raises(CampaignFileError, match=r"broken\.yaml, line \d+"):
        load_campaign(db_session, path)


def test_sandbox_refuses_reaching_into_python_objects() -> None:
    with pytest.raises(TemplateError):
        check_template("{{ ask.__class__ }}", "t")


def test_supporter_text_with_template_syntax_stays_literal() -> None:
    typed = "My own words {{ legislator.name }} {% for x in y %} stay as typed"
    values = template_vars(title=SMITH.title, name=SMITH.name)

    class Template:
        subject = "To {{ legislator.title }} {{ legislator.name }}"
        body = "Dear {{ legislator.title }} {{ legislator.name }},"

    letter = write_letter(Template(), values, typed, ["Ann Lee", "Newark, NJ"])  # type: ignore[arg-type]
    assert letter.subject == "To Rep. Christopher H. Smith"
    assert letter.organization_statement == "Dear Rep. Christopher H. Smith,"
    assert letter.constituent_message == typed
    assert typed in letter.text and letter.text.endswith("Newark, NJ\n")


def test_handle_gets_one_at_sign_and_missing_values_render_empty() -> None:
    values = template_vars(handle="@RepChrisSmith")
    assert render("{{ legislator.handle }}|{{ supporter.city }}", values) == "@RepChrisSmith|"


def test_ask_follows_the_legislators_chamber(db_session: Session) -> None:
    campaign = load_campaign(db_session, CAMPAIGN_FILE)
    senator = LegislatorRef(bioguide_id="B001288", name="Cory Booker", chamber="senate",
                            state="NJ")
    assert "co-sponsor" in variables(campaign, SMITH, "en").values["ask"]
    assert "Senate companion" in variables(campaign, senator, "en").values["ask"]
    assert "參議院" in variables(campaign, senator, "zh-Hant").values["ask"]
