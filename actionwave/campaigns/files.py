"""Campaigns as files: seed a campaign's YAML (copy, bill, templates) into the database once.

After that the database is the truth: organizers edit copy and templates in the console, and a
deploy (which may run ``campaign load`` again) changes nothing unless told to with ``--force``.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from actionwave.core.models import (
    CAMPAIGN_STATUSES,
    LOCALES,
    TEMPLATE_KINDS,
    Campaign,
    MessageTemplate,
)
from actionwave.messages.editing import tweet_template_problems
from actionwave.messages.templating import TemplateError, check_templates


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


def load_campaign(session: Session, path: Path, *, force: bool = False) -> Campaign:
    """Seed the campaign described by ``path`` once. Commits.

    A campaign already in the database is left as organizers made it (console edits to its copy
    and templates), unless ``force``: then its title, bill, chambers, copy and templates become
    the file's (``campaign_diff`` shows what that changes first). Its status (active or paused)
    is never touched once it exists: a deploy must not set a paused campaign live again.

    Raises ``CampaignFileError`` (and changes nothing) for a malformed file, a broken template,
    or a tweet template X would refuse for some legislator it addresses
    (``actionwave.messages.editing.tweet_template_problems``).
    """
    data, rows = _read_checked(path)
    campaign = session.scalar(select(Campaign).where(Campaign.slug == data["slug"]))
    if campaign is not None and not force:
        return campaign
    if campaign is None:
        campaign = Campaign(slug=data["slug"], status=data.get("status", "active"))
        session.add(campaign)
    bill = data.get("bill") or {}
    campaign.title = data["title"]
    campaign.bill_congress = bill.get("congress")
    campaign.bill_type = bill.get("type")
    campaign.bill_number = bill.get("number")
    campaign.target_chambers = data.get("target_chambers", ["house", "senate"])
    campaign.content = _file_content(data)
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


def campaign_diff(session: Session, path: Path) -> str | None:
    """What ``load_campaign(force=True)`` would change, as a unified diff from the database to
    the file ("" when nothing), or None when the campaign does not exist yet."""
    data, rows = _read_checked(path)
    campaign = session.scalar(select(Campaign).where(Campaign.slug == data["slug"]))
    if campaign is None:
        return None
    bill = data.get("bill") or {}
    in_file = _editable(data["title"], [bill.get("congress"), bill.get("type"), bill.get("number")],
                        data.get("target_chambers", ["house", "senate"]), _file_content(data), rows)
    stored = _editable(campaign.title,
                       [campaign.bill_congress, campaign.bill_type, campaign.bill_number],
                       campaign.target_chambers, campaign.content,
                       [{"kind": t.kind, "locale": t.locale, "name": t.name, "subject": t.subject,
                         "body": t.body} for t in campaign.templates])
    return "".join(difflib.unified_diff(
        stored.splitlines(keepends=True), in_file.splitlines(keepends=True),
        fromfile=f"database: {campaign.slug}", tofile=str(path)))


def _read_checked(path: Path) -> tuple[dict[str, Any], list[dict[str, str]]]:
    data = read_campaign_file(path)
    rows = template_rows(data, str(path))
    try:
        check_templates(rows, str(path), path.read_text(encoding="utf-8"))
    except TemplateError as exc:
        raise CampaignFileError(str(exc)) from exc
    return data, rows


def _file_content(data: dict[str, Any]) -> dict[str, Any]:
    return {**(data.get("content") or {}), "cohosts": data.get("cohosts", [])}


def _editable(title: str, bill: list[Any], chambers: list[str], content: dict[str, Any],
              rows: list[dict[str, str]]) -> str:
    """What a forced load replaces, as YAML in a stable order (templates by kind, locale, name)."""
    templates = {f"{r['kind']}/{r['locale']}/{r['name']}": {"subject": r["subject"],
                                                           "body": r["body"]}
                 for r in sorted(rows, key=lambda r: (r["kind"], r["locale"], r["name"]))}
    return yaml.safe_dump({"title": title, "bill": bill, "target_chambers": chambers,
                           "content": content, "templates": templates},
                          allow_unicode=True, sort_keys=True, width=100)
