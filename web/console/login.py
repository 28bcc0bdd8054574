"""Signing in and out. The session id is replaced at both, so a planted cookie is worthless."""

from __future__ import annotations

from flask import redirect, render_template, request, session
from werkzeug.wrappers import Response

from actionwave.accounts.services import AccountError, LockedOut, sign_in, sign_out
from actionwave.accounts.signin_links import use_link
from actionwave.delivery.signin_link import mail_signin_link
from web.api import ip_hash
from web.console import bp, console_url
from web.console.auth import SESSION_KEY, current_principal
from web.context import db, services
from web.csrf import check_csrf
from web.i18n import locale, translate


def _next_page() -> str:
    """Where to go after signing in: a path on this site only, never another host; a target with
    a control character (CR/LF would split the Location header) or a backslash is dropped."""
    target = request.values.get("next", "")
    if (target.startswith("/console") and not target.startswith("//")
            and target.isprintable() and "\\" not in target):
        return target
    return console_url("console.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    if request.method == "GET":
        if current_principal() is not None:
            return redirect(_next_page())
        return render_template("console/login.html", error=None, email="")
    check_csrf()
    email = request.form.get("email", "")
    try:
        _user, session_id = sign_in(db(), email, request.form.get("password", ""), ip_hash())
    except LockedOut as exc:
        message = translate("console_locked", minutes=exc.lock.minutes)
        return render_template("console/login.html", error=message, email=email,
                               locked=True), 429
    except AccountError:
        message = translate("console_bad_login")
        return render_template("console/login.html", error=message, email=email), 401
    return _signed_in(session_id)


def _signed_in(session_id: str) -> Response:
    previous = session.get(SESSION_KEY)
    if previous:
        sign_out(db(), previous)
    session.clear()  # a new session id and a new CSRF token
    session[SESSION_KEY] = session_id
    return redirect(_next_page())


@bp.post("/login/link")
def ask_for_link() -> tuple[str, int]:
    """Mail a one-time sign-in link to a locked account's own address. The answer is the same
    whether or not the account exists, is disabled or has asked too often."""
    check_csrf()
    email = request.form.get("email", "").strip()
    if "@" not in email or len(email) > 254:
        return render_template("console/login.html", error=translate("console_link_email"),
                               email=email, locked=True, email_invalid=True), 400
    mail_signin_link(db(), services().settings, email, locale())
    return render_template("console/login.html", error=None, email=email,
                           notice=translate("console_link_sent")), 200


@bp.get("/login/link/<token>")
def link_page(token: str) -> str:
    """A button that uses the link: opening it signs nobody in, so a mail scanner that fetches
    links does not spend it."""
    return render_template("console/signin_link.html", token=token, error=None)


@bp.post("/login/link/<token>")
def use_signin_link(token: str) -> Response | tuple[str, int]:
    check_csrf()
    try:
        _user, session_id = use_link(db(), token, ip_hash())
    except AccountError:
        return render_template("console/signin_link.html", token=None,
                               error=translate("console_link_bad")), 400
    return _signed_in(session_id)


@bp.post("/logout")
def logout() -> Response:
    check_csrf()
    current = session.get(SESSION_KEY)
    if current:
        sign_out(db(), current)
    session.clear()
    return redirect(console_url("console.login"))
