"""Deliveries: filter by state, channel and action status; retry the dead ones."""

from __future__ import annotations

from flask import flash, redirect, render_template, request
from werkzeug.wrappers import Response

from actionwave.campaigns.reports import DeliveryFilter, delivery_channels, find_deliveries
from actionwave.core.models import ACTION_STATUSES, DELIVERY_STATES
from actionwave.delivery.recovery import retry_dead
from web.console import bp, console_url
from web.console.auth import require_role
from web.console.campaigns import chosen_campaign
from web.context import db
from web.i18n import translate


def _filter() -> DeliveryFilter:
    args = request.values
    state = args.get("state", "")
    status = args.get("status", "")
    return DeliveryFilter(
        state=state if state in DELIVERY_STATES else "",
        channel=args.get("channel", "")[:20],
        action_status=status if status in ACTION_STATUSES else "",
    )


@bp.get("/deliveries")
@require_role("viewer")
def deliveries() -> str:
    wanted = _filter()
    campaign = chosen_campaign()
    return render_template("console/deliveries.html", campaign=campaign,
                           rows=find_deliveries(db(), campaign.id, wanted), wanted=wanted,
                           states=DELIVERY_STATES, statuses=ACTION_STATUSES,
                           channels=delivery_channels(db(), campaign.id))


@bp.post("/deliveries/<int:delivery_id>/retry")
@require_role("organizer")
def retry_delivery(delivery_id: int) -> Response:
    moved = retry_dead(db(), [delivery_id])
    flash(translate("console_retried" if moved else "console_not_dead", id=delivery_id))
    wanted = _filter()
    return redirect(console_url("console.deliveries", state=wanted.state or None,
                                channel=wanted.channel or None,
                                status=wanted.action_status or None))
