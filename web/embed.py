"""The three steps for partner sites: ``/embed/c/<slug>`` in an ``<iframe>``.

Only origins in ``EMBED_ALLOWED_ORIGINS`` may frame these pages (``@embeddable`` sets
``frame-ancestors``). Browsers don't send our cookies to a page framed by another site, so the
form can't be checked against a session's CSRF token; it carries a signed, expiring token
instead, which proves the form came from a page we rendered. The console's campaign page shows
the snippet (``static/embed.js`` with an ``<iframe>`` fallback).
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from actionwave.messages.page import page_messages
from web.context import db, services
from web.csrf import FIELD as CSRF_FIELD
from web.i18n import locale
from web.legislators import lookup_for_page
from web.public import (
    FormAnswer,
    accept_form,
    load_campaign,
    looked_up,
    looked_up_zip,
    outcome_of,
    page_context,
)
from web.security import embeddable

bp = Blueprint("embed", __name__, url_prefix="/embed")

FORM_TOKEN_MAX_AGE = 24 * 3600
LAYOUT = {"layout": "embed.html", "page_endpoint": "embed.campaign_page",
          "act_endpoint": "embed.submit_form", "back_endpoint": "embed.campaign_page"}


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="embed-form")


def form_token(slug: str) -> str:
    return _signer().dumps(slug)


def check_form_token(slug: str) -> None:
    """Abort with 400 unless the form carries our signed token for this campaign, recently."""
    try:
        signed_for = _signer().loads(request.form.get(CSRF_FIELD, ""), max_age=FORM_TOKEN_MAX_AGE)
    except BadSignature:
        signed_for = None
    if signed_for != slug:
        abort(400, description="The form expired or was not sent from this site. Reload it.")


@bp.get("/c/<slug>")
@embeddable
def campaign_page(slug: str) -> str:
    campaign = load_campaign(slug)
    lookup = lookup_for_page(request.args)
    messages = page_messages(db(), services().settings, campaign, looked_up(lookup), locale(),
                             zip_code=looked_up_zip(lookup))
    return render_template("campaign.html", **page_context(
        campaign, form=request.args, lookup=lookup, messages=messages,
        csrf_token=form_token(slug), **LAYOUT))


@bp.post("/c/<slug>/act")
@embeddable
def submit_form(slug: str) -> FormAnswer:
    return accept_form(slug, lambda: check_form_token(slug), "embed.thanks",
                       csrf_token=form_token(slug), **LAYOUT)


@bp.get("/c/<slug>/thanks")
@embeddable
def thanks(slug: str) -> str:
    campaign = load_campaign(slug)
    return render_template("thanks.html", **page_context(
        campaign, action_id=request.args.get("action"),
        outcome=outcome_of(request.args.get("action"), campaign), **LAYOUT))
