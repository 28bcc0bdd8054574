"""Coverage: the legislators a campaign cannot reach, and adding an address for their office."""

from __future__ import annotations

from flask import flash, redirect, render_template, request
from werkzeug.wrappers import Response

from actionwave.coverage import CoverageError, add_target_address, coverage
from actionwave.cwc.client import CwcClient
from actionwave.messages.compose_links import CHANNELS
from web.console import bp, console_url
from web.console.auth import require_role
from web.console.campaigns import chosen_campaign
from web.context import db, services
from web.i18n import translate


def _page(error: CoverageError | None = None) -> tuple[str, int]:
    campaign = chosen_campaign()
    shown = request.values.get("show", "none")
    shown = shown if shown in CHANNELS else "none"
    report = coverage(db(), campaign.id, cwc_enabled=CwcClient.configured(services().settings))
    return render_template("console/coverage.html", campaign=campaign, report=report,
                           shown=shown, rows=report.with_channel(shown), channels=CHANNELS,
                           error=error, form=request.form), 400 if error else 200


@bp.get("/coverage")
@require_role("viewer")
def coverage_page() -> tuple[str, int]:
    return _page()


@bp.post("/coverage/addresses")
@require_role("organizer")
def add_address() -> Response | tuple[str, int]:
    campaign = chosen_campaign()
    form = request.form
    scope = None if form.get("scope") == "all" else campaign.id
    try:
        added = add_target_address(db(), scope, form.get("bioguide_id", ""),
                                   form.get("email", ""), form.get("label", ""))
    except CoverageError as exc:
        return _page(exc)
    flash(translate("console_address_added" if added else "console_address_known",
                    email=form.get("email", "").strip(), id=form.get("bioguide_id", "")))
    return redirect(console_url("console.coverage_page", campaign=campaign.slug,
                                show=form.get("show") or None))
