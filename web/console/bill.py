"""The bill: the stages it has reached (and the waves bound to them), and its raw actions."""

from __future__ import annotations

from flask import render_template

from actionwave.bill.timeline import bill_timeline
from web.console import bp
from web.console.auth import require_role
from web.console.campaigns import chosen_campaign
from web.context import db


@bp.get("/bill")
@require_role("viewer")
def bill() -> str:
    campaign = chosen_campaign()
    return render_template("console/bill.html", campaign=campaign,
                           timeline=bill_timeline(db(), campaign))
