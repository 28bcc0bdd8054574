"""Organizers' edits to a campaign in the console: its page copy and its message templates.

A template is edited as a *group*: one kind and name (``email``/``default``, ``tweet``/``2``) in
every locale at once, so the English and Chinese versions stay side by side. Validation uses
``actionwave.messages.templating`` (the same check the campaign file passes when it loads) and
reports each problem against the field and the line inside it. Nothing is saved while any field
of the group has a problem.

A tweet template is also measured as X counts it (``actionwave.messages.tweets``) for every
legislator it can address: each member of the campaign's chambers with an X handle in the current
legislator snapshot. Over 280 for any of them, or leaving out their handle, it is refused with
the worst case named; ``campaign load`` applies the same check (``tweet_template_problems``).

Edits live in the database; loading the campaign file again (``actionwave campaign load``)
replaces them with the file's templates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from actionwave.core.models import LOCALES, Campaign, MessageTemplate
from actionwave.legislators.models import Legislator
from actionwave.legislators.sync import current_snapshot_id
from actionwave.messages.legislators import LegislatorRef
from actionwave.messages.letters import variables
from actionwave.messages.templating import TemplateError, check_template
from actionwave.messages.tweets import MAX_WEIGHTED_LENGTH, WorstCase, worst_case

# Kinds whose messages have a subject line (tweets have a body only).
WITH_SUBJECT = ("email", "confirmation", "reminder", "wave")
MAX_SUBJECT = 300
MAX_BODY = 20_000
COPY_FIELDS = ("title", "lede", "ask_house", "ask_senate", "email_body", "call_script", "why")
MAX_COPY = {"title": 200}
MAX_COPY_DEFAULT = 5_000


@dataclass(frozen=True)
class Draft:
    """One locale's version of a template group, as typed."""

    locale: str
    subject: str
    body: str


@dataclass(frozen=True)
class FieldProblem:
    """What is wrong with one field: ``field`` is ``subject-en``, ``body-zh-Hant``, ``lede``...

    ``code`` and ``params``, when set, let a page say ``message`` in its own language
    (``console_problem_<code>`` in ``web/translations``).
    """

    field: str
    line: int | None
    message: str
    code: str = ""
    params: dict[str, Any] = field(default_factory=dict)


class NoSuchTemplate(LookupError):
    """The campaign has no template of that kind and name."""


def field_name(part: str, locale: str) -> str:
    return f"{part}-{locale}"


def template_groups(campaign: Campaign) -> list[tuple[str, str]]:
    """The campaign's (kind, name) groups, in a stable order."""
    return sorted({(t.kind, t.name) for t in campaign.templates})


def group_rows(campaign: Campaign, kind: str, name: str) -> dict[str, MessageTemplate]:
    """Locale -> stored template of the group. Raises ``NoSuchTemplate`` when there is none."""
    rows = {t.locale: t for t in campaign.templates if t.kind == kind and t.name == name}
    if not rows:
        raise NoSuchTemplate(f"{kind}/{name}")
    return rows


def stored_drafts(campaign: Campaign, kind: str, name: str) -> dict[str, Draft]:
    """The group as stored, one draft per locale (empty for a locale without a version)."""
    rows = group_rows(campaign, kind, name)
    return {locale: Draft(locale, rows[locale].subject, rows[locale].body) if locale in rows
            else Draft(locale, "", "") for locale in LOCALES}


def drafts_from_form(form: Mapping[str, str]) -> dict[str, Draft]:
    """Drafts from the edit form's ``subject-<locale>`` and ``body-<locale>`` fields."""
    return {locale: Draft(locale, form.get(field_name("subject", locale), "").strip(),
                          form.get(field_name("body", locale), "").replace("\r\n", "\n"))
            for locale in LOCALES}


def check_drafts(kind: str, drafts: Mapping[str, Draft],
                 required: frozenset[str] | set[str]) -> list[FieldProblem]:
    """Every problem in the group; ``required`` locales must have a body. Pure."""
    problems: list[FieldProblem] = []
    for locale, draft in drafts.items():
        if not draft.body.strip():
            if locale in required:
                problems.append(FieldProblem(field_name("body", locale), None, "required"))
            continue
        parts = {"body": (draft.body, MAX_BODY)}
        if kind in WITH_SUBJECT:
            parts["subject"] = (draft.subject, MAX_SUBJECT)
            if "\n" in draft.subject:
                problems.append(FieldProblem(field_name("subject", locale), None, "one line"))
        for part, (text, limit) in parts.items():
            name = field_name(part, locale)
            if len(text) > limit:
                problems.append(FieldProblem(name, None, f"at most {limit} characters"))
                continue
            try:
                check_template(text, name)
            except TemplateError as exc:
                problems.append(FieldProblem(name, exc.line, exc.message))
    return problems


def save_template_group(session: Session, campaign: Campaign, kind: str, name: str,
                        drafts: Mapping[str, Draft]) -> list[FieldProblem]:
    """Validate and store the group; returns the problems (then nothing is stored).

    A locale that has a stored version must keep a body; a new locale's version is added when
    its body is given. Raises ``NoSuchTemplate``. Commits on success.
    """
    rows = group_rows(campaign, kind, name)
    problems = check_drafts(kind, drafts, set(rows)) or template_problems(session, campaign,
                                                                          kind, drafts)
    if problems:
        return problems
    for locale, draft in drafts.items():
        if not draft.body.strip():
            continue
        row = rows.get(locale)
        if row is None:
            row = MessageTemplate(campaign_id=campaign.id, kind=kind, locale=locale, name=name)
            session.add(row)
        row.subject = draft.subject if kind in WITH_SUBJECT else ""
        row.body = draft.body
    session.commit()
    session.expire(campaign, ["templates"])
    return []


def addressable_legislators(session: Session, chambers: list[str]) -> list[LegislatorRef]:
    """Members of ``chambers`` in the current snapshot who have an X handle (none before a
    sync)."""
    snapshot = current_snapshot_id(session)
    if snapshot is None:
        return []
    rows = session.execute(select(
        Legislator.bioguide_id, Legislator.name, Legislator.chamber, Legislator.state,
        Legislator.district, Legislator.twitter).where(
        Legislator.snapshot_id == snapshot, Legislator.chamber.in_(chambers),
        Legislator.twitter.is_not(None)).order_by(Legislator.bioguide_id))
    return [LegislatorRef(*row) for row in rows]


def template_problems(session: Session, campaign: Campaign, kind: str,
                      drafts: Mapping[str, Draft],
                      legislators: list[LegislatorRef] | None = None) -> list[FieldProblem]:
    """Problems only a rendering shows: a tweet over 280 for the legislator with the longest
    rendering, or one leaving out a legislator's handle. Drafts must pass ``check_drafts``.
    Reads the legislator snapshot (``legislators`` spares the read when checking many)."""
    if kind != "tweet":
        return []
    if legislators is None:
        legislators = addressable_legislators(session, campaign.target_chambers or [])
    problems = []
    for locale, draft in drafts.items():
        if not draft.body.strip():
            continue
        values = {leg.bioguide_id: variables(campaign, leg, locale) for leg in legislators}
        worst = worst_case(draft.body, legislators, values)
        if worst is not None:
            problems.extend(_tweet_problems(field_name("body", locale), worst))
    return problems


def _tweet_problems(name: str, worst: WorstCase) -> list[FieldProblem]:
    problems = []
    who = f"{worst.legislator.title} {worst.legislator.name}"
    if not worst.fits:
        params = {"length": worst.tweet.length, "limit": MAX_WEIGHTED_LENGTH,
                  "handle": f"@{worst.legislator.handle}", "name": who,
                  "over": worst.tweet.length - MAX_WEIGHTED_LENGTH}
        problems.append(FieldProblem(
            name, None, "X counts {length} of {limit} characters for {handle} ({name}): "
            "shorten it by {over}".format(**params), "tweet_too_long", params))
    if worst.unnamed:
        first = worst.unnamed[0]
        params = {"handle": f"@{first.handle}", "n": len(worst.unnamed)}
        problems.append(FieldProblem(
            name, None, "leaves out the handle of {n} legislators ({handle} first): use "
            "{{{{ legislator.handle }}}}".format(**params), "tweet_unnamed", params))
    return problems


def tweet_template_problems(session: Session,
                            campaign: Campaign) -> dict[tuple[str, str], list[FieldProblem]]:
    """(kind, name) -> problems of every stored tweet template of ``campaign``, measured
    against today's legislator snapshot (a data sync can bring a longer handle). Reads only."""
    legislators = addressable_legislators(session, campaign.target_chambers or [])
    found = {}
    for kind, name in template_groups(campaign):
        if kind != "tweet":
            continue
        drafts = stored_drafts(campaign, kind, name)
        problems = (check_drafts(kind, drafts, set())
                    or template_problems(session, campaign, kind, drafts, legislators))
        if problems:
            found[(kind, name)] = problems
    return found


def copy_from_form(form: Mapping[str, str]) -> dict[str, str | list[str]]:
    """Page copy from the form; ``why`` is one paragraph per blank-line-separated block."""
    copy: dict[str, str | list[str]] = {}
    for key in COPY_FIELDS:
        text = form.get(key, "").replace("\r\n", "\n").strip()
        if key == "why":
            copy[key] = [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]
        else:
            copy[key] = text
    return copy


def save_copy(session: Session, campaign: Campaign, locale: str,
              copy: Mapping[str, str | list[str]]) -> list[FieldProblem]:
    """Store one locale's page copy; returns the problems (then nothing is stored). Commits."""
    if locale not in LOCALES:
        return [FieldProblem("locale", None, f"one of {', '.join(LOCALES)}")]
    problems = []
    if not copy.get("title"):
        problems.append(FieldProblem("title", None, "required"))
    for key, value in copy.items():
        size = sum(len(p) for p in value) if isinstance(value, list) else len(value)
        limit = MAX_COPY.get(key, MAX_COPY_DEFAULT)
        if size > limit:
            problems.append(FieldProblem(key, None, f"at most {limit} characters"))
    if problems:
        return problems
    previous = campaign.content.get(locale) or {}
    # A new dict, so the JSON column is seen as changed; keys this form doesn't edit are kept.
    campaign.content = {**campaign.content, locale: {**previous, **copy}}
    session.commit()
    return []
