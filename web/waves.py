"""The organizers' wave API (``/api/v1/waves``), behind ``Authorization: Bearer <token>``.

Without ``ORGANIZER_TOKEN`` configured the organizer API is disabled (403): there is no default
token to guess.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import select

from actionwave.models import Campaign, Wave
from actionwave.waves.control import cancel_wave, pause_wave, resume_wave, wave_progress
from actionwave.waves.launch import create_wave, launch_wave
from actionwave.waves.segment import SegmentError
from web.context import db, services
from web.errors import error_response

bp = Blueprint("waves", __name__)


@bp.before_request
def require_organizer() -> tuple[Response, int] | None:
    expected = services().settings.organizer_token
    if not expected:
        return error_response(403, None, "the organizer API is disabled (no ORGANIZER_TOKEN)")
    given = request.headers.get("Authorization", "")
    scheme, _, token = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), expected.encode()):
        response, status = error_response(401, "Authorization", "a valid organizer token")
        response.headers["WWW-Authenticate"] = 'Bearer realm="organizer"'
        return response, status
    return None


@bp.get("/waves")
def list_waves() -> tuple[Response, int]:
    ids = db().scalars(select(Wave.id).order_by(Wave.id.desc()).limit(200)).all()
    return jsonify(waves=[wave_progress(db(), wave_id) for wave_id in ids]), 200


@bp.post("/waves")
def post_wave() -> tuple[Response, int]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return error_response(400, "body", "send a JSON object")
    session = db()
    try:
        campaign_id = session.scalar(select(Campaign.id).where(
            Campaign.slug == str(data.get("campaign", ""))))
        if campaign_id is None:
            return error_response(404, "campaign", "no campaign with this slug")
        wave = create_wave(
            session, campaign_id, str(data.get("name") or ""),
            template_name=str(data.get("template") or "default"),
            segment=data.get("segment") or {}, trigger=str(data.get("trigger") or "manual"),
            trigger_at=_datetime(data.get("trigger_at")),
            trigger_stage=data.get("trigger_stage"),
            pace_per_minute=_positive_int(data.get("pace_per_minute")),
        )
    except SegmentError as exc:
        session.rollback()
        return error_response(400, exc.field, exc.message)
    session.commit()
    return jsonify(wave_progress(session, wave.id)), 201


@bp.get("/waves/<int:wave_id>")
def get_wave(wave_id: int) -> tuple[Response, int]:
    progress = wave_progress(db(), wave_id)
    if progress is None:
        return error_response(404, "id", "no such wave")
    return jsonify(progress), 200


_CHANGES = {"launch": launch_wave, "pause": pause_wave, "resume": resume_wave,
            "cancel": cancel_wave}


@bp.post("/waves/<int:wave_id>/<any(launch, pause, resume, cancel):change>")
def change_wave(wave_id: int, change: str) -> tuple[Response, int]:
    """Launch marks the wave running; beat's ``advance_waves`` fans it out within seconds."""
    if wave_progress(db(), wave_id) is None:
        return error_response(404, "id", "no such wave")
    if not _CHANGES[change](db(), wave_id):
        return error_response(409, "status", f"the wave cannot {change} from its status")
    return jsonify(wave_progress(db(), wave_id)), 200


def _datetime(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise SegmentError("trigger_at", "an ISO 8601 date-time with a time zone") from exc


def _positive_int(value: Any) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise SegmentError("pace_per_minute", "a whole number")
    return value
