"""Campaigns: page copy and message templates, with a live preview in both locales.

Without JavaScript the "Preview" button posts the form and the page comes back with the preview
rendered; with it, ``console.js`` posts the same form to the preview endpoint as the organizer
types and swaps the returned fragment in. Viewers may preview; saving needs an organizer.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request
from sqlalchemy import select
from werkzeug.wrappers import Response

from actionwave.core.models import LOCALES, Campaign
from actionwave.messages.editing import (
    COPY_FIELDS,
    Draft,
    FieldProblem,
    NoSuchTemplate,
    check_drafts,
    copy_from_form,
    drafts_from_form,
    save_copy,
    save_template_group,
    stored_drafts,
    template_groups,
    template_problems,
    tweet_template_problems,
)
from actionwave.messages.preview import SAMPLE_SUPPORTER, preview_group, sample_legislator
from web.console import bp, console_url
from web.console.auth import require_role
from web.context import db, services
from web.i18n import translate

FRAGMENT_HEADER = "X-Preview-Fragment"


def chosen_campaign() -> Campaign:
    """``?campaign=<slug>``, else the first active campaign, else the first one; 404 if none."""
    slug = request.values.get("campaign")
    query = select(Campaign).order_by((Campaign.status != "active"), Campaign.id).limit(1)
    if slug:
        query = select(Campaign).where(Campaign.slug == slug)
    campaign = db().scalar(query)
    if campaign is None:
        abort(404, description="No such campaign. Load one with: actionwave campaign load FILE")
    return campaign


def campaign_by_slug(slug: str) -> Campaign:
    campaign = db().scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is None:
        abort(404, description="No such campaign.")
    return campaign


@bp.get("/campaigns")
@require_role("viewer")
def campaigns() -> str:
    rows = db().scalars(select(Campaign).order_by(Campaign.id)).all()
    return render_template("console/campaigns.html", campaigns=rows)


def _campaign_page(campaign: Campaign, problems: dict[str, list[FieldProblem]] | None = None,
                   typed: dict[str, dict[str, Any]] | None = None) -> str:
    public = services().settings.public_url.rstrip("/")
    return render_template("console/campaign.html", campaign=campaign, locales=LOCALES,
                           groups=template_groups(campaign), copy_fields=COPY_FIELDS,
                           problems=problems or {}, typed=typed or {}, public_url=public,
                           template_problems=tweet_template_problems(db(), campaign))


@bp.get("/campaigns/<slug>")
@require_role("viewer")
def campaign(slug: str) -> str:
    return _campaign_page(campaign_by_slug(slug))


@bp.post("/campaigns/<slug>/copy/<locale>")
@require_role("organizer")
def save_campaign_copy(slug: str, locale: str) -> Response | tuple[str, int]:
    found = campaign_by_slug(slug)
    if locale not in LOCALES:
        abort(404)
    copy = copy_from_form(request.form)
    problems = save_copy(db(), found, locale, copy)
    if problems:
        return _campaign_page(found, {locale: problems}, {locale: copy}), 400
    flash(translate("console_copy_saved", locale=locale))
    return redirect(console_url("console.campaign", slug=slug))


def _group(campaign: Campaign, kind: str, name: str) -> dict[str, Draft]:
    try:
        return stored_drafts(campaign, kind, name)
    except NoSuchTemplate:
        abort(404, description="No such template.")


def _editor(campaign: Campaign, kind: str, name: str, drafts: dict[str, Draft],
            problems: list[FieldProblem], fragment: bool = False) -> tuple[str, int]:
    """The editor page (or only its preview) and its status: 422 when a draft has a problem
    (a syntax error, an unknown variable, a render bound or a sandbox refusal), else 200."""
    chamber = request.values.get("chamber", "house")
    legislator = sample_legislator(db(), chamber)
    previews = preview_group(campaign, kind, drafts, legislator)
    # A stored or typed tweet too long for some legislator is shown, not only refused at save.
    if not problems and not check_drafts(kind, drafts, set()):
        problems = template_problems(db(), campaign, kind, drafts)
    by_field = {p.field: p for p in problems}
    for rendered in previews:
        for problem in rendered.problems:
            by_field.setdefault(problem.field, problem)
    context = {"campaign": campaign, "kind": kind, "name": name, "drafts": drafts,
               "problems": by_field, "chamber": legislator.chamber, "legislator": legislator,
               "supporter": SAMPLE_SUPPORTER, "previews": previews}
    status = 422 if by_field else 200
    if fragment:
        return render_template("console/_preview.html", **context), status
    return render_template("console/template.html", **context), status


@bp.get("/campaigns/<slug>/templates/<kind>/<name>")
@require_role("viewer")
def template(slug: str, kind: str, name: str) -> str:
    found = campaign_by_slug(slug)
    page, _ = _editor(found, kind, name, _group(found, kind, name), [])
    return page


@bp.post("/campaigns/<slug>/templates/<kind>/<name>/preview")
@require_role("viewer")
def preview_template(slug: str, kind: str, name: str) -> tuple[str, int]:
    """The page (or, for the script, only the preview) for the drafts as typed; saves nothing."""
    found = campaign_by_slug(slug)
    _group(found, kind, name)
    return _editor(found, kind, name, drafts_from_form(request.form), [],
                   fragment=request.headers.get(FRAGMENT_HEADER) == "1")


@bp.post("/campaigns/<slug>/templates/<kind>/<name>")
@require_role("organizer")
def save_template(slug: str, kind: str, name: str) -> Response | tuple[str, int]:
    found = campaign_by_slug(slug)
    _group(found, kind, name)
    drafts = drafts_from_form(request.form)
    problems = save_template_group(db(), found, kind, name, drafts)
    if problems:
        return _editor(found, kind, name, drafts, problems)[0], 400
    flash(translate("console_template_saved", kind=kind, name=name))
    return redirect(console_url("console.template", slug=slug, kind=kind, name=name))
