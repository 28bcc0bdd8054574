"""Campaigns as files: load a campaign's YAML (copy, bill, templates) into the database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from actionwave.messages.editing import tweet_template_problems
from actionwave.messages.templating import TemplateError, check_templates
from actionwave.models import CAMPAIGN_STATUSES, LOCALES, TEMPLATE_KINDS, Campaign, MessageTemplate


class CampaignFileError(ValueError):
    """The campaign file is malformed; the message names the file and what is wrong."""


def read_campaign_file(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CampaignFileError(f"{path}: {exc}") from exc
    if not isinstance(data, dict):
        raise CampaignFileError(f"{path}: expected a mapping at the top level")
    for key in ("slug", "title"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise CampaignFileError(f"{path}: '{key}' is required")
    if data.get("status", "active") not in CAMPAIGN_STATUSES:
        raise CampaignFileError(f"{path}: status must be one of {', '.join(CAMPAIGN_STATUSES)}")
    return data


def template_rows(data: dict[str, Any], source: str) -> list[dict[str, str]]:
    """Flatten ``templates: {kind: {locale: {subject, body} | [body, ...]}}`` into rows."""
    rows = []
    for kind, by_locale in (data.get("templates") or {}).items():
        if kind not in TEMPLATE_KINDS:
            raise CampaignFileError(f"{source}: unknown template kind '{kind}'")
        for locale, spec in by_locale.items():
            if locale not in LOCALES:
                raise CampaignFileError(f"{source}: templates.{kind}: unknown locale '{locale}'")
            items = spec if isinstance(spec, list) else [spec]
            for index, item in enumerate(items, start=1):
                if isinstance(item, str):
                    item = {"body": item}
                name = item.get("name") or ("default" if not isinstance(spec, list) else str(index))
                rows.append({"kind": kind, "locale": locale, "name": name,
                             "subject": item.get("subject", ""), "body": item["body"]})
    return rows


def load_campaign(session: Session, path: Path) -> Campaign:
    """Create or update the campaign described by ``path``, replacing its templates. Commits.

    Raises ``CampaignFileError`` (and changes nothing) for a malformed file, a broken template,
    or a tweet template X would refuse for some legislator it addresses
    (``actionwave.messages.editing.tweet_template_problems``)."""
    data = read_campaign_file(path)
    rows = template_rows(data, str(path))
    try:
        check_templates(rows, str(path), path.read_text(encoding="utf-8"))
    except TemplateError as exc:
        raise CampaignFileError(str(exc)) from exc
    campaign = session.scalar(select(Campaign).where(Campaign.slug == data["slug"]))
    if campaign is None:
        campaign = Campaign(slug=data["slug"])
        session.add(campaign)
    bill = data.get("bill") or {}
    campaign.title = data["title"]
    campaign.status = data.get("status", "active")
    campaign.bill_congress = bill.get("congress")
    campaign.bill_type = bill.get("type")
    campaign.bill_number = bill.get("number")
    campaign.target_chambers = data.get("target_chambers", ["house", "senate"])
    campaign.content = {**(data.get("content") or {}), "cohosts": data.get("cohosts", [])}
    session.flush()
    session.execute(delete(MessageTemplate).where(MessageTemplate.campaign_id == campaign.id))
    session.add_all(MessageTemplate(campaign_id=campaign.id, **row) for row in rows)
    session.flush()
    session.expire(campaign, ["templates"])
    problems = tweet_template_problems(session, campaign)
    if problems:
        session.rollback()
        raise CampaignFileError("\n".join(
            f"{path}: templates.{kind}.{p.field.removeprefix('body-')}[{name}]: {p.message}"
            for (kind, name), found in problems.items() for p in found))
    session.commit()
    return campaign
