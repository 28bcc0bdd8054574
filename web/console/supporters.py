"""Supporters: search, CSV export (streamed), erase on request."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Response, flash, redirect, render_template, request, stream_with_context

from actionwave.campaigns.supporters import (
    NoSuchSupporter,
    erase_supporter,
    export_csv,
    search_supporters,
)
from actionwave.mail.consent import consents_of
from web.console import bp, console_url
from web.console.auth import require_role
from web.console.campaigns import chosen_campaign
from web.context import db
from web.i18n import translate


@bp.get("/supporters")
@require_role("viewer")
def supporters() -> str:
    query = request.args.get("q", "")[:200]
    campaign = chosen_campaign()
    rows = search_supporters(db(), campaign.id, query)
    return render_template("console/supporters.html", q=query, rows=rows, campaign=campaign,
                           consents=consents_of(db(), campaign.id, [s.id for s in rows]))


@bp.get("/supporters.csv")
@require_role("organizer")
def supporters_csv() -> Response:
    """One campaign's supporters (``?campaign=<slug>``) with their consent, streamed without
    holding a transaction open: organizers only, never cached."""
    campaign = chosen_campaign()
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    return Response(stream_with_context(export_csv(db(), campaign.id)),
                    mimetype="text/csv",
                    headers={"Content-Disposition":
                             f'attachment; filename="supporters-{campaign.slug}-{stamp}.csv"',
                             "Cache-Control": "no-store"})


@bp.post("/supporters/<int:supporter_id>/erase")
@require_role("admin")
def erase(supporter_id: int) -> Response:
    try:
        erase_supporter(db(), supporter_id)
    except NoSuchSupporter:
        flash(translate("console_no_supporter", id=supporter_id))
    else:
        flash(translate("console_erased", id=supporter_id))
    return redirect(console_url("console.supporters"))
