"""The bill: what the watcher last did and why it failed, the stages reached so far (and the
waves bound to them), and the raw actions. Every console page gets the stale-watcher banner."""

from __future__ import annotations

from typing import Any

from flask import render_template

from actionwave.bill.polls import STALE_AFTER, stale_campaigns, watch_status
from actionwave.bill.timeline import bill_timeline
from web.console import bp
from web.console.auth import current_principal, require_role
from web.console.campaigns import chosen_campaign
from web.context import db, services


@bp.get("/bill")
@require_role("viewer")
def bill() -> str:
    campaign = chosen_campaign()
    return render_template("console/bill.html", campaign=campaign,
                           timeline=bill_timeline(db(), campaign),
                           watch=watch_status(db(), campaign),
                           poll_minutes=round(services().settings.bill_poll_seconds / 60))


@bp.context_processor
def stale_watchers() -> dict[str, Any]:
    """``stale_watchers``: the campaigns whose bill watcher has not succeeded in 6 hours."""
    if current_principal() is None:
        return {}
    return {"stale_watchers": stale_campaigns(db()),
            "stale_hours": round(STALE_AFTER.total_seconds() / 3600)}
