"""The signed unsubscribe / preferences page, and RFC 8058 one-click unsubscribe.

A link is scoped to the campaign whose mail carried it (``actionwave.mail.unsubscribe``):
``GET /u/<token>`` shows what the supporter gets from that campaign; ``POST /u/<token>`` (the
page's button, or a mail client's one-click ``List-Unsubscribe=One-Click``) stops that
campaign's mail, and ``POST`` with ``scope=all`` stops all mail. Mail clients send the one-click
POST without a session, so the signed token is the only credential and no CSRF token is asked for.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from actionwave.core.models import Campaign, Supporter
from actionwave.delivery.fresh_link import mail_fresh_link
from actionwave.mail.consent import consents_of
from actionwave.mail.unsubscribe import (
    UnsubscribeScope,
    read_unsubscribe_token,
    unsubscribe,
    unsubscribe_from_campaign,
)
from web.context import db, services
from web.i18n import locale

bp = Blueprint("unsubscribe", __name__)


def _scope(token: str) -> tuple[UnsubscribeScope, Supporter]:
    scope = read_unsubscribe_token(services().settings, token)
    supporter = db().get(Supporter, scope.supporter_id) if scope is not None else None
    if scope is None or supporter is None:
        abort(404)
    return scope, supporter


def _expired_page(token: str, sent: bool = False) -> str:
    """An expired link changes nothing and shows no address: it offers a fresh link by mail."""
    return render_template("unsubscribe_expired.html", token=token, sent=sent)


def _page(token: str, scope: UnsubscribeScope, supporter: Supporter, done: str | None) -> str:
    campaign = db().get(Campaign, scope.campaign_id) if scope.campaign_id is not None else None
    title = ""
    consent = None
    if campaign is not None:
        copy = campaign.content.get(locale()) or campaign.content.get("en") or {}
        title = str(copy.get("title") or campaign.title)
        consent = consents_of(db(), campaign.id, [supporter.id]).get(supporter.id)
    return render_template("unsubscribe.html", supporter=supporter, token=token, done=done,
                           campaign=campaign, title=title, consent=consent)


@bp.get("/u/<token>")
def preferences(token: str) -> str:
    scope, supporter = _scope(token)
    if scope.expired():
        return _expired_page(token)
    return _page(token, scope, supporter, None)


@bp.post("/u/<token>")
def unsubscribe_now(token: str) -> str:
    scope, supporter = _scope(token)
    if scope.expired():
        return _expired_page(token)
    if scope.campaign_id is None or request.form.get("scope") == "all":
        unsubscribe(db(), supporter.id)
        done = "all"
    else:
        unsubscribe_from_campaign(db(), supporter.id, scope.campaign_id)
        done = "campaign"
    db().refresh(supporter)
    return _page(token, scope, supporter, done)


@bp.post("/u/<token>/fresh-link")
def fresh_link(token: str) -> str:
    """Mail a fresh link to the supporter's own address (the same answer whether or not one went:
    the page says nothing about the address)."""
    scope, _supporter = _scope(token)
    mail_fresh_link(db(), services().settings, scope)
    return _expired_page(token, sent=True)
