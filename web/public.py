"""Pages for supporters: the campaign page, its no-JavaScript form posts, and health checks."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from sqlalchemy import select, text
from werkzeug.wrappers import Response

from actionwave.intake import HONEYPOT, FieldError, UnknownCampaign, parse_action_form
from actionwave.intake import submit_action as store_submission
from actionwave.models import Campaign
from web.api import ip_hash
from web.context import db
from web.csrf import FIELD as CSRF_FIELD
from web.csrf import check_csrf, csrf_token
from web.i18n import locale

bp = Blueprint("public", __name__)


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    return {"status": "ok"}, 200


@bp.get("/readyz")
def readyz() -> tuple[dict[str, str], int]:
    db().execute(text("SELECT 1"))
    return {"status": "ready"}, 200


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
        **extra,
    }


@bp.get("/c/<slug>")
def campaign_page(slug: str) -> str:
    campaign = load_campaign(slug)
    return render_template("campaign.html", **page_context(campaign, form=request.args))


@bp.post("/c/<slug>/act")
def submit_form(slug: str) -> Response | tuple[str, int]:
    campaign = load_campaign(slug)
    check_csrf()
    fields = {k: v for k, v in request.form.items() if k != CSRF_FIELD}
    try:
        form = parse_action_form(fields)
        if form.honeypot_filled:
            return redirect(url_for("public.thanks", slug=slug))
        submission = store_submission(db(), slug, form, ip_hash=ip_hash())
    except FieldError as exc:
        context = page_context(campaign, form=request.form, error=exc)
        return render_template("campaign.html", **context), exc.status
    except UnknownCampaign:
        abort(404)
    return redirect(url_for("public.thanks", slug=slug, action=submission.action_id,
                            lang=locale()))


@bp.get("/c/<slug>/thanks")
def thanks(slug: str) -> str:
    campaign = load_campaign(slug)
    return render_template("thanks.html", **page_context(campaign,
                                                         action_id=request.args.get("action")))
