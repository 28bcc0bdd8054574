"""The dashboard: numbers for a launch, refreshed in place every few seconds when JS is on."""

from __future__ import annotations

import logging

import redis
from flask import render_template, request

from actionwave.campaigns.reports import (
    FUNNEL,
    DashboardNumbers,
    dashboard_numbers,
    messages_by_kind,
)
from actionwave.social.x_poster import XPoster, make_poster
from actionwave.system.metrics import queue_depth
from web.console import bp
from web.console.auth import require_role
from web.console.campaigns import chosen_campaign
from web.console.charts import bar_chart
from web.context import db, services

log = logging.getLogger(__name__)
WINDOWS = (6, 24, 48, 168)


def _numbers(campaign_id: int) -> tuple[DashboardNumbers, int]:
    hours = request.args.get("hours", type=int)
    hours = hours if hours in WINDOWS else 48
    try:
        depth = queue_depth(services().settings)
    except redis.RedisError as exc:
        log.warning("queue depth unavailable: %s", exc)
        depth = None
    return dashboard_numbers(db(), campaign_id, hours=hours, queue_depth=depth), hours


def _render(template: str) -> str:
    campaign = chosen_campaign()
    numbers, hours = _numbers(campaign.id)
    top = max((count for _state, count in numbers.by_state), default=0)
    return render_template(template, n=numbers, hours=hours, windows=WINDOWS, funnel=FUNNEL,
                           chart=bar_chart(numbers.over_time, numbers.unit), top_state=top,
                           kinds=messages_by_kind(db(), campaign.id),
                           x_configured=isinstance(make_poster(services().settings), XPoster),
                           campaign=campaign)


@bp.get("/")
@require_role("viewer")
def dashboard() -> str:
    return _render("console/dashboard.html")


@bp.get("/dashboard/live")
@require_role("viewer")
def dashboard_live() -> str:
    """The numbers alone, for the page's script to swap in."""
    return _render("console/_numbers.html")
