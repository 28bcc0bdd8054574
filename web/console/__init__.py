"""The organizer console (``/console``): server-rendered pages behind a sign-in.

Views parse the request, call one domain function (``actionwave.accounts``,
``actionwave.campaigns.reports``, ``actionwave.campaigns.supporters``, ``actionwave.delivery``) and
render. ``web.console.auth.require_role`` guards every page except the sign-in form.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request, url_for
from sqlalchemy import select

from actionwave.core.models import Campaign
from web.console.auth import current_principal
from web.context import db
from web.csrf import csrf_token

bp = Blueprint("console", __name__, url_prefix="/console")


def console_url(endpoint: str, **values: Any) -> str:
    """``url_for`` that keeps an explicit ``?lang=`` choice and the chosen ``?campaign=`` while
    moving between pages."""
    lang = request.args.get("lang") or request.form.get("locale")
    if lang and "lang" not in values:
        values["lang"] = lang
    campaign = request.args.get("campaign")
    if campaign and "campaign" not in values:
        values["campaign"] = campaign
    return url_for(endpoint, **values)


def all_campaigns() -> list[Campaign]:
    """Every campaign, for the switch on the pages that show one campaign."""
    return list(db().scalars(select(Campaign).order_by(Campaign.id)))


@bp.context_processor
def console_globals() -> dict[str, Any]:
    return {"principal": current_principal(), "csrf_token": csrf_token, "curl": console_url,
            "all_campaigns": all_campaigns}


@bp.after_request
def never_cache(response: Response) -> Response:
    # Pages behind a sign-in must not be kept by the browser or a proxy.
    response.headers["Cache-Control"] = "no-store"
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


from web.console import (  # noqa: E402 (the views register themselves on bp)
    bill,
    campaigns,
    coverage,
    dashboard,
    deliveries,
    login,
    supporters,
    tokens,
    waves,
)

__all__ = ["bill", "bp", "campaigns", "coverage", "dashboard", "deliveries", "login",
           "supporters", "tokens", "waves"]
