"""CSRF tokens for server-rendered forms: a random token kept in the signed session cookie."""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, abort, request, session
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

FIELD = "csrf_token"


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed session cookie, with its signing serializer built once per app instead of
    on every request (a measurable share of a submission's time; bench/intake.py)."""

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if "session_serializer" not in app.extensions:
            app.extensions["session_serializer"] = super().get_signing_serializer(app)
        return app.extensions["session_serializer"]


def csrf_token() -> str:
    if FIELD not in session:
        session[FIELD] = secrets.token_urlsafe(32)
    return session[FIELD]


def check_csrf() -> None:
    """Abort with 400 unless the form's token matches the session's."""
    sent = request.form.get(FIELD, "")
    expected = session.get(FIELD, "")
    if not expected or not hmac.compare_digest(sent, expected):
        abort(400, description="The form expired or was not sent from this site. Reload it.")
