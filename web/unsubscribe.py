"""The signed unsubscribe / preferences page, and RFC 8058 one-click unsubscribe.

``GET /u/<token>`` shows the supporter's state; ``POST /u/<token>`` unsubscribes. Mail clients
send the one-click POST (``List-Unsubscribe=One-Click``) without a session, so the signed token
is the only credential and no CSRF token is asked for.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from actionwave.mail.unsubscribe import read_unsubscribe_token, unsubscribe
from actionwave.models import Supporter
from web.context import db, services

bp = Blueprint("unsubscribe", __name__)


def _supporter(token: str) -> Supporter:
    supporter_id = read_unsubscribe_token(services().settings, token)
    supporter = db().get(Supporter, supporter_id) if supporter_id is not None else None
    if supporter is None:
        abort(404)
    return supporter


@bp.get("/u/<token>")
def preferences(token: str) -> str:
    supporter = _supporter(token)
    return render_template("unsubscribe.html", supporter=supporter, token=token, done=False)


@bp.post("/u/<token>")
def unsubscribe_now(token: str) -> str:
    supporter = _supporter(token)
    unsubscribe(db(), supporter.id)
    db().refresh(supporter)
    return render_template("unsubscribe.html", supporter=supporter, token=token, done=True)
