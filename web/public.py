"""Pages for supporters: the campaign page, its no-JavaScript form posts, and health checks."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from werkzeug.wrappers import Response

from actionwave.calls.services import NotCallable
from actionwave.calls.services import record_call as record_call_of
from actionwave.core.models import Campaign
from actionwave.cwc.message import PREFIXES
from actionwave.intake.submissions import (
    HONEYPOT,
    FieldError,
    UnknownCampaign,
    accept_submission,
    cwc_fields_needed,
    parse_action_form,
)
from actionwave.legislators.index import NoSnapshot
from actionwave.mail.consent import consent_text
from actionwave.messages.outcome import Outcome, message_outcome
from actionwave.messages.page import page_messages
from actionwave.platform.batching import BatchTimeout
from actionwave.system.health import readiness
from web.api import check_district_of, ip_hash
from web.context import db, services
from web.csrf import FIELD as CSRF_FIELD
from web.csrf import check_csrf, csrf_token
from web.errors import RETRY_AFTER_SECONDS
from web.i18n import LOCALES, locale
from web.legislators import lookup_for_page

log = logging.getLogger(__name__)
bp = Blueprint("public", __name__)
# A form post's answer: a redirect, or the page again with a status (and headers).
FormAnswer = Response | tuple[str, int] | tuple[str, int, dict[str, str]]


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    return {"status": "ok"}, 200


@bp.get("/readyz")
def readyz() -> tuple[dict[str, Any], int, dict[str, str]]:
    """200 when the database and the broker answer; 503 naming what is down otherwise."""
    checks = readiness(services())
    down = sorted(name for name, state in checks.items() if state != "ok")
    if down:
        return ({"status": "unavailable", "down": down, "checks": checks}, 503,
                {"Retry-After": "5", "Cache-Control": "no-store"})
    return {"status": "ready", "checks": checks}, 200, {"Cache-Control": "no-store"}


@bp.get("/")
def index() -> Response:
    slug = db().scalar(select(Campaign.slug).where(Campaign.status == "active").limit(1))
    if slug is None:
        abort(404)
    return redirect(url_for("public.campaign_page", slug=slug))


def load_campaign(slug: str) -> Campaign:
    campaign = db().scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is None or campaign.status not in ("active", "paused"):
        abort(404)
    return campaign


def page_context(campaign: Campaign, **extra: Any) -> dict[str, Any]:
    copy = campaign.content.get(locale()) or campaign.content.get("en", {})
    return {
        "campaign": campaign,
        "copy": copy,
        "cohosts": campaign.content.get("cohosts", []),
        "csrf_token": csrf_token(),
        "csrf_field": CSRF_FIELD,
        "honeypot": HONEYPOT,
        "cwc_fields": cwc_fields_needed(services().settings, campaign.target_chambers),
        "prefixes": PREFIXES,
        # The consent box's label: the very words the intake records with the consent.
        "consent_label": consent_text(locale()),
        **extra,
    }


@bp.get("/c/<slug>")
def campaign_page(slug: str) -> str:
    campaign = load_campaign(slug)
    lookup = lookup_for_page(request.args)
    messages = page_messages(db(), services().settings, campaign, looked_up(lookup), locale(),
                             zip_code=looked_up_zip(lookup))
    return render_template("campaign.html", **page_context(
        campaign, form=request.args, lookup=lookup, messages=messages))


@bp.post("/c/<slug>/lang")
def switch_language(slug: str) -> str:
    """The campaign page in the language asked, with everything typed still in the form: the
    language switch of a page without JavaScript (with it, the header's links keep the typed
    text in the tab's storage). Stores nothing."""
    campaign = load_campaign(slug)
    check_csrf()
    asked = request.form.get("lang", "")
    if asked not in LOCALES:
        abort(400, description="lang: one of " + ", ".join(LOCALES))
    g.locale = asked
    typed = {k: v for k, v in request.form.items() if k not in (CSRF_FIELD, "lang", "locale")}
    # The lookup again from the ZIP and district typed (no geocoding in a language switch).
    lookup = lookup_for_page({"zip": typed.get("zip", ""), "district": typed.get("district", "")})
    messages = page_messages(db(), services().settings, campaign, looked_up(lookup), asked,
                             zip_code=looked_up_zip(lookup))
    return render_template("campaign.html", **page_context(
        campaign, form=typed, lookup=lookup, messages=messages))


@bp.get("/c/<slug>/lang")
def switch_language_link(slug: str) -> Response:
    """The page's relative links (``?lang=``, a district chosen) after a language switch."""
    return redirect(url_for("public.campaign_page", slug=slug, **request.args.to_dict()))


def looked_up(lookup: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The people of a step-1 answer (senators, then representatives); none after an error."""
    answer = (lookup or {}).get("answer") or {}
    # A ZIP split between districts: no representative is certain until one is chosen.
    representatives = [] if answer.get("ambiguous") else answer.get("representatives", [])
    return [*answer.get("senators", []), *representatives]


def looked_up_zip(lookup: dict[str, Any] | None) -> str | None:
    return ((lookup or {}).get("answer") or {}).get("zip")


@bp.post("/c/<slug>/act")
def submit_form(slug: str) -> FormAnswer:
    return accept_form(slug, check_csrf, "public.thanks")


def accept_form(slug: str, check_token: Callable[[], None], thanks_endpoint: str,
                **layout: Any) -> FormAnswer:
    """The no-JavaScript form post, for the campaign page and its embeddable copy: store the
    submission and go to the thanks page, or show the page again with the error by its field."""
    campaign = load_campaign(slug)
    check_token()
    fields = {k: v for k, v in request.form.items() if k != CSRF_FIELD}
    try:
        form = parse_action_form(fields, cwc=cwc_fields_needed(services().settings,
                                                               campaign.target_chambers))
        if form.honeypot_filled:
            g.intake_outcome = "honeypot"
            return redirect(url_for(thanks_endpoint, slug=slug))
        check_district_of(form)
        submission = accept_submission(services().submissions, slug, form,
                                       secret=services().settings.secret_key,
                                       ip_hash=ip_hash(),
                                       source="form")
        g.intake_outcome = "accepted" if submission.created else "duplicate"
        g.action_id = str(submission.action_id)
    except FieldError as exc:
        typed = request.form.to_dict()
        again: dict[str, Any] = {}
        if exc.field == "district":  # the choice belonged to another lookup: choose again,
            typed.pop("district", None)  # from this ZIP's districts (no geocoding here)
            again["lookup"] = lookup_for_page({"zip": typed.get("zip", "")})
        context = page_context(campaign, form=typed, error=exc, **again, **layout)
        return render_template("campaign.html", **context), exc.status
    except (DBAPIError, BatchTimeout) as exc:
        # Nothing was stored: the page comes back with everything typed, to send again.
        log.error("submission not stored: %s", type(getattr(exc, "orig", None) or exc).__name__)
        context = page_context(campaign, form=request.form, unavailable=True, **layout)
        return (render_template("campaign.html", **context), 503,
                {"Retry-After": str(RETRY_AFTER_SECONDS)})
    except UnknownCampaign:
        abort(404)
    return redirect(url_for(thanks_endpoint, slug=slug, action=submission.action_id,
                            lang=locale()))


@bp.get("/c/<slug>/thanks")
def thanks(slug: str) -> str:
    campaign = load_campaign(slug)
    return render_template("thanks.html", **page_context(
        campaign, action_id=request.args.get("action"),
        outcome=outcome_of(request.args.get("action"), campaign)))


@bp.get("/c/<slug>/status/<action_id>")
def status_page(slug: str, action_id: str) -> str:
    """The status of one message, for people: one line per legislator (JSON: the API's
    ``/api/v1/actions/<id>``)."""
    campaign = load_campaign(slug)
    outcome = outcome_of(action_id, campaign)
    if outcome is None:
        abort(404)
    return render_template("status.html", **page_context(campaign, outcome=outcome,
                                                         action_id=action_id))


@bp.post("/c/<slug>/status/<action_id>/called")
def record_call(slug: str, action_id: str) -> Response:
    """"I called": the supporter reports a call to one office; works without JavaScript."""
    campaign = load_campaign(slug)
    check_csrf()
    outcome = outcome_of(action_id, campaign)
    if outcome is None:
        abort(404)
    try:
        record_call_of(db(), outcome.action.id, request.form.get("bioguide_id", ""),
                       {reach.choice.legislator.bioguide_id for reach, _ in outcome.lines})
    except NotCallable:
        abort(400, description="bioguide_id: not a legislator of this message")
    return redirect(url_for("public.status_page", slug=slug, action_id=action_id,
                            lang=locale()), code=303)


def outcome_of(action_id: str | None, campaign: Campaign) -> Outcome | None:
    """The outcome of an action of ``campaign`` (None for a missing or foreign id)."""
    try:
        parsed = uuid.UUID(action_id or "")
    except ValueError:
        return None
    try:
        index = services().legislators.get(db())
    except NoSnapshot:
        index = None
    outcome = message_outcome(db(), services().settings, index, parsed)
    if outcome is None or outcome.campaign.id != campaign.id:
        return None
    return outcome
