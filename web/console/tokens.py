"""API tokens for /api/v1 (admins only). A new token is shown once, on the page that made it.

Creating and revoking are written to the audit log; the list shows when each token was last used.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import flash, redirect, render_template, request
from werkzeug.wrappers import Response

from actionwave.accounts import ROLES
from actionwave.accounts.services import (
    SCOPES,
    AccountError,
    create_api_token,
    list_api_tokens,
    revoke_api_token,
)
from web.console import bp, console_url
from web.console.auth import current_principal, require_role
from web.context import db
from web.i18n import translate


def _page(new_secret: str | None = None, error: str | None = None) -> tuple[str, int]:
    return render_template("console/tokens.html", tokens=list_api_tokens(db()), roles=ROLES,
                           scopes=SCOPES, new_secret=new_secret, error=error), \
        400 if error else 200


def _actor() -> str:
    principal = current_principal()
    return f"user:{principal.label}" if principal else "unknown"


def _expiry(text: str) -> datetime | None:
    """``YYYY-MM-DD`` → the end of that day, UTC; '' → None. Raises ``AccountError``."""
    if not text.strip():
        return None
    try:
        day = datetime.strptime(text.strip(), "%Y-%m-%d")
    except ValueError as exc:
        raise AccountError("expires: a date as YYYY-MM-DD") from exc
    return day.replace(hour=23, minute=59, second=59, tzinfo=UTC)


@bp.get("/tokens")
@require_role("admin")
def tokens() -> tuple[str, int]:
    return _page()


@bp.post("/tokens")
@require_role("admin")
def create_token() -> tuple[str, int]:
    principal = current_principal()
    try:
        role = request.form.get("role", "")
        wanted = request.form.getlist("scopes")
        # A role's scopes are the most it may have: asking for more than a viewer may do gets
        # the viewer's, not an error, when the form's default boxes are left as they were.
        if role in ROLES and "admin" not in wanted:
            wanted = [s for s in wanted if s != "write" or role != "viewer"]
        _token, secret = create_api_token(db(), request.form.get("name", ""), role,
                                          principal.user_id if principal else None,
                                          scopes=wanted or None,
                                          expires_at=_expiry(request.form.get("expires", "")),
                                          actor=_actor())
    except AccountError as exc:
        return _page(error=str(exc))
    return _page(new_secret=secret)


@bp.post("/tokens/<int:token_id>/revoke")
@require_role("admin")
def revoke_token(token_id: int) -> Response:
    revoke_api_token(db(), token_id, actor=_actor())
    flash(translate("console_revoked"))
    return redirect(console_url("console.tokens"))
