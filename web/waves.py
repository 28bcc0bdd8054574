"""The organizers' wave API (``/api/v1/waves``), behind ``Authorization: Bearer <token>``.

Tokens are API tokens of organizer accounts (``actionwave user token``, or the console's token
page): a viewer token may read waves, an organizer token may also create and change them.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import select

from actionwave.core.models import Campaign, Wave
from actionwave.waves.changes import WAVE_CHANGES
from actionwave.waves.control import wave_progress
from actionwave.waves.launch import create_wave
from actionwave.waves.segment import SegmentError
from web.console.auth import require_role
from web.context import db
from web.errors import error_response

bp = Blueprint("waves", __name__)
MAX_ID = 2**31 - 1  # wave ids are 32-bit: a larger one is no wave (not a database error)


@bp.get("/waves")
@require_role("viewer")
def list_waves() -> tuple[Response, int]:
    """The newest 200 waves, or with ``?campaign=<slug>`` those of one campaign."""
    query = select(Wave.id).order_by(Wave.id.desc()).limit(200)
    slug = request.args.get("campaign")
    if slug is not None:
        campaign_id = db().scalar(select(Campaign.id).where(Campaign.slug == slug))
        if campaign_id is None:
            return error_response(404, "campaign", "no campaign with this slug")
        query = query.where(Wave.campaign_id == campaign_id)
    ids = db().scalars(query).all()
    return jsonify(waves=[wave_progress(db(), wave_id) for wave_id in ids]), 200


@bp.post("/waves")
@require_role("organizer")
def post_wave() -> tuple[Response, int]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return error_response(400, "body", "send a JSON object")
    if unstorable := _unstorable_field(data):
        return error_response(400, unstorable, "contains invalid characters")
    if mistyped := _mistyped_field(data):
        return error_response(400, *mistyped)
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


# Each field of a wave request and the JSON types it may have (None: may be null or absent).
WAVE_FIELDS: dict[str, tuple[type, ...]] = {
    "campaign": (str,), "name": (str,), "template": (str, type(None)),
    "segment": (dict, type(None)), "trigger": (str, type(None)),
    "trigger_at": (str, type(None)), "trigger_stage": (str, type(None)),
    "pace_per_minute": (int, type(None)),
}
TYPE_NAMES = {str: "a string", dict: "an object", int: "a whole number"}


def _mistyped_field(data: dict[str, Any]) -> tuple[str, str] | None:
    """The first unknown field, or field of the wrong JSON type, and what it should be."""
    for field in data:
        if field not in WAVE_FIELDS:
            return str(field), f"unknown field (known: {', '.join(WAVE_FIELDS)})"
    for field, types in WAVE_FIELDS.items():
        value = data.get(field)
        if field in ("campaign", "name") and value is None:
            return field, "required"
        if isinstance(value, bool) or not isinstance(value, types):
            return field, TYPE_NAMES[types[0]] + (" or null" if len(types) > 1 else "")
    return None


def _unstorable_field(data: dict[str, Any]) -> str | None:
    """The first field holding text that is not UTF-8 (JSON can carry lone surrogates)."""
    for field, value in data.items():
        try:
            json.dumps([field, value], ensure_ascii=False).encode()
        except UnicodeEncodeError:
            return str(field).encode("utf-8", "replace").decode()
    return None


@bp.get("/waves/<int:wave_id>")
@require_role("viewer")
def get_wave(wave_id: int) -> tuple[Response, int]:
    progress = wave_progress(db(), wave_id) if wave_id <= MAX_ID else None
    if progress is None:
        return error_response(404, "id", "no such wave")
    return jsonify(progress), 200


@bp.post("/waves/<int:wave_id>/<any(launch, pause, resume, cancel):change>")
@require_role("organizer")
def change_wave(wave_id: int, change: str) -> tuple[Response, int]:
    """Launch marks the wave running; beat's ``advance_waves`` fans it out within seconds."""
    if wave_id > MAX_ID or wave_progress(db(), wave_id) is None:
        return error_response(404, "id", "no such wave")
    if not WAVE_CHANGES[change](db(), wave_id):
        return error_response(409, "status", f"the wave cannot {change} from its status")
    return jsonify(wave_progress(db(), wave_id)), 200


def _datetime(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise SegmentError("trigger_at", "an ISO 8601 date-time with a time zone") from exc
    if moment.tzinfo is None:
        raise SegmentError("trigger_at", "include a time zone, e.g. Z")
    return moment


def _positive_int(value: Any) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise SegmentError("pace_per_minute", "a whole number")
    return value
