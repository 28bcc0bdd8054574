"""Who may see and change what: ``require_role`` guards console pages and organizer API routes.

A console page is authenticated by a console session only (the signed cookie holds a session id
that the database must still know). ``/api/v1`` also takes ``Authorization: Bearer <token>``: a
token works there and nowhere else, within its role and scopes (``read`` for GET, ``write`` for
changes, ``admin`` for admin routes). Unauthenticated pages redirect to the sign-in form;
unauthenticated API calls get a 401 JSON error. Changes made through a session must carry the
form's CSRF token; bearer tokens are not sent by browsers on their own, so token calls need none.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, g, redirect, request, session, url_for

from actionwave.accounts import role_allows
from actionwave.accounts.services import Principal, session_principal, token_principal
from web.context import db
from web.csrf import check_csrf
from web.errors import error_response

SESSION_KEY = "console_sid"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
API_PREFIX = "/api/v1/"

F = TypeVar("F", bound=Callable[..., Any])


def bearer_token() -> str | None:
    """The token in ``Authorization: Bearer <token>``, '' for another scheme, None if absent."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def current_principal() -> Principal | None:
    """The organizer or token behind this request, or None. Looked up once per request."""
    if "principal" not in g:
        token = bearer_token() if request.path.startswith(API_PREFIX) else None
        if token is not None:
            g.principal = token_principal(db(), token) if token else None
        elif SESSION_KEY in session:
            g.principal = session_principal(db(), session[SESSION_KEY])
        else:
            g.principal = None
    return g.principal


def _wants_json() -> bool:
    return request.path.startswith("/api/") or bearer_token() is not None


def needed_scope(role: str) -> str:
    """The token scope this request needs: admin for admin routes, else read or write."""
    if role == "admin":
        return "admin"
    return "read" if request.method in SAFE_METHODS else "write"


def require_role(role: str) -> Callable[[F], F]:
    """Allow the view to ``role`` and above: 401/redirect when anonymous, 403 when the role is
    too low, 400 when a session's change lacks the CSRF token."""

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if principal is None:
                if _wants_json():
                    response, status = error_response(
                        401, "Authorization", "sign in or send Authorization: Bearer <token>")
                    response.headers["WWW-Authenticate"] = 'Bearer realm="actionwave"'
                    return response, status
                return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
            if not role_allows(principal.role, role):
                abort(403, description=f"This needs the {role} role.")
            if principal.via_token and needed_scope(role) not in principal.scopes:
                return error_response(403, "Authorization",
                                      f"this token lacks the {needed_scope(role)} scope")
            if not principal.via_token and request.method not in SAFE_METHODS:
                check_csrf()
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorate
