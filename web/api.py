"""The public JSON API (``/api/v1``)."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from flask import Blueprint, Response, g, jsonify, request, url_for
from sqlalchemy import select

from actionwave.core.models import Campaign
from actionwave.intake.submissions import (
    ActionForm,
    FieldError,
    UnknownCampaign,
    accept_submission,
    action_status,
    check_district,
    cwc_fields_needed,
    parse_action_form,
)
from actionwave.legislators.index import NoSnapshot
from web.context import db, services
from web.errors import error_response

bp = Blueprint("api", __name__)


def submission_data() -> dict[str, Any]:
    """The request's fields, from JSON or form encoding; ``FieldError`` for anything else."""
    if request.is_json:
        try:
            data = request.get_json(silent=True)
        except RecursionError:  # nesting deeper than the parser's stack
            data = None
        if data is None:
            raise FieldError("body", "malformed JSON", 400)
        return data
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        if request.files:
            raise FieldError(next(iter(request.files)), "file uploads are not accepted", 400)
        form = request.form
        repeated = next((k for k in form if len(form.getlist(k)) > 1), None)
        if repeated:
            raise FieldError(repeated, "given more than once", 400)
        return form.to_dict()
    raise FieldError("body", "send application/json or application/x-www-form-urlencoded", 415)


def ip_hash() -> str:
    """A salted hash of the client address: enough to spot abuse, useless to identify anyone.
    Made once per request (the abuse limits and the stored action both want it)."""
    if "ip_hash" not in g:
        secret = services().settings.secret_key.encode()
        g.ip_hash = hashlib.sha256(secret + (request.remote_addr or "").encode()).hexdigest()
    return g.ip_hash


def check_district_of(form: ActionForm) -> None:
    """``intake.check_district`` against this process's index; skipped before any data sync,
    when the resolution says what is missing. A check of the current snapshot (every few
    seconds) reads in a session of its own, closed at once: nothing is held while the
    submission is stored, and on SQLite it takes no lock (``Services.request_session``)."""
    if form.district is None:
        return
    try:
        with services().request_session() as session:
            index = services().legislators.get(session)
    except NoSnapshot:
        return
    check_district(index, form)


def cwc_fields(slug: str) -> bool:
    """Whether this campaign's supporters must give what CWC requires: read only with CWC
    configured, in a session closed before the submission is written."""
    settings = services().settings
    if not cwc_fields_needed(settings, ["house"]):
        return False
    with services().session() as session:
        chambers = session.scalar(select(Campaign.target_chambers).where(Campaign.slug == slug))
    return cwc_fields_needed(settings, chambers or [])


@bp.post("/campaigns/<slug>/actions")
def submit_action(slug: str) -> tuple[Response, int]:
    try:
        form = parse_action_form(submission_data(), cwc=cwc_fields(slug))
        if form.honeypot_filled:
            g.intake_outcome = "honeypot"
            return _accepted(uuid.uuid4(), "accepted")  # a bot: look accepted, store nothing
        check_district_of(form)
        submission = accept_submission(services().submissions, slug, form,
                                       secret=services().settings.secret_key,
                                       ip_hash=ip_hash())
        g.intake_outcome = "accepted" if submission.created else "duplicate"
        g.action_id = str(submission.action_id)
    except FieldError as exc:
        return error_response(exc.status, exc.field, exc.message)
    except UnknownCampaign:
        return error_response(404, "slug", "no active campaign with this slug")
    return _accepted(submission.action_id, submission.status, created=submission.created)


def _accepted(action_id: uuid.UUID, status: str, created: bool = True) -> tuple[Response, int]:
    status_url = url_for("api.get_action", action_id=action_id)
    response = jsonify(id=str(action_id), status=status, status_url=status_url, created=created)
    response.headers["Location"] = status_url
    return response, 202


@bp.get("/actions/<action_id>")
def get_action(action_id: str) -> tuple[Response, int]:
    try:
        parsed = uuid.UUID(action_id)
    except ValueError:
        return error_response(404, "id", "no such action")
    state = action_status(db(), parsed)
    if state is None:
        return error_response(404, "id", "no such action")
    response = jsonify(state)
    response.headers["Cache-Control"] = "no-store"
    return response, 200
