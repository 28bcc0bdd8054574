"""API tokens for /api/v1 (admins only). A new token is shown once, on the page that made it."""

from __future__ import annotations

from flask import flash, redirect, render_template, request
from werkzeug.wrappers import Response

from actionwave.accounts import ROLES
from actionwave.accounts.services import (
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
                           new_secret=new_secret, error=error), 400 if error else 200


@bp.get("/tokens")
@require_role("admin")
def tokens() -> tuple[str, int]:
    return _page()


@bp.post("/tokens")
@require_role("admin")
def create_token() -> tuple[str, int]:
    principal = current_principal()
    try:
        _token, secret = create_api_token(db(), request.form.get("name", ""),
                                          request.form.get("role", ""),
                                          principal.user_id if principal else None)
    except AccountError as exc:
        return _page(error=str(exc))
    return _page(new_secret=secret)


@bp.post("/tokens/<int:token_id>/revoke")
@require_role("admin")
def revoke_token(token_id: int) -> Response:
    revoke_api_token(db(), token_id)
    flash(translate("console_revoked"))
    return redirect(console_url("console.tokens"))
