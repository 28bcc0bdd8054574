"""Waves: create, schedule, bind to a bill stage, launch, pause, resume, cancel; watch progress.

The changes call the same domain functions as the API (``web.waves``) and the CLI. Launching
marks the wave running; beat's ``advance_waves`` fans it out within seconds and the delivery
engine sends it, while the progress bars refresh in place (``console.js``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import abort, flash, redirect, render_template, request
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from actionwave.bill.polls import watch_status
from actionwave.bill.stages import STAGE_LABELS, STAGES
from actionwave.core.models import LOCALES, Campaign, Wave
from actionwave.waves.changes import WAVE_CHANGES
from actionwave.waves.control import wave_progress
from actionwave.waves.launch import TRIGGERS, create_wave
from actionwave.waves.segment import CHAMBERS, SegmentError
from web.console import bp, console_url
from web.console.auth import require_role
from web.console.campaigns import chosen_campaign
from web.context import db
from web.i18n import translate

STAGE_KEYS = [key for stage in STAGES
              for key in (stage, f"{stage}:house", f"{stage}:senate")]


def _progress(campaign: Campaign) -> list[dict[str, Any]]:
    ids = db().scalars(select(Wave.id).where(Wave.campaign_id == campaign.id)
                       .order_by(Wave.id.desc()).limit(100)).all()
    waves = [wave_progress(db(), wave_id) for wave_id in ids]
    for wave in waves:
        if wave is not None:
            finished = wave["done"] + wave["failed"]
            wave["percent"] = round(100 * finished / wave["total"]) if wave["total"] else (
                100 if wave["status"] == "done" else 0)
    return [w for w in waves if w is not None]


def _template_names(campaign: Campaign) -> list[str]:
    names = {t.name for t in campaign.templates if t.kind == "wave"}
    return sorted(names or {"default"})


def _page(campaign: Campaign, form: MultiDict[str, str] | None = None,
          problem: SegmentError | None = None) -> str:
    return render_template(
        "console/waves.html", campaign=campaign, waves=_progress(campaign),
        form=form or MultiDict(), problem=problem, triggers=TRIGGERS, chambers=CHAMBERS,
        locales=LOCALES, stage_keys=STAGE_KEYS, stage_labels=STAGE_LABELS,
        templates=_template_names(campaign), watch=watch_status(db(), campaign))


@bp.get("/waves")
@require_role("viewer")
def waves() -> str:
    return _page(chosen_campaign())


@bp.get("/waves/live")
@require_role("viewer")
def waves_live() -> str:
    """The wave list alone, for the page's script to swap in."""
    campaign = chosen_campaign()
    return render_template("console/_waves.html", waves=_progress(campaign),
                           watch=watch_status(db(), campaign))


def _utc(value: str, field: str) -> datetime | None:
    """A ``datetime-local`` value, read as UTC (the form says so)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise SegmentError(field, "a date and time, e.g. 2026-05-01T14:00") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _codes(value: str) -> list[str]:
    return [code for code in value.replace(",", " ").upper().split() if code]


def segment_from_form(form: MultiDict[str, str]) -> dict[str, Any]:
    """The segment's filters from the form (validated by ``Segment.from_dict`` on create)."""
    since = _utc(form.get("since", ""), "segment.since")
    acted = {"yes": True, "no": False}.get(form.get("acted", ""))
    segment: dict[str, Any] = {
        "states": _codes(form.get("states", "")),
        "districts": _codes(form.get("districts", "")),
        "chamber": form.get("chamber") or None, "locale": form.get("segment_locale") or None,
        "acted": acted, "since": since.isoformat() if since else None,
    }
    return {key: value for key, value in segment.items() if value not in (None, [])}


@bp.post("/waves")
@require_role("organizer")
def create() -> Response | tuple[str, int]:
    campaign = chosen_campaign()
    form = request.form
    session = db()
    try:
        pace = form.get("pace_per_minute", "").strip()
        if pace and not pace.isdigit():
            raise SegmentError("pace_per_minute", "a whole number")
        wave = create_wave(
            session, campaign.id, form.get("name", "").strip(),
            template_name=form.get("template") or "default", segment=segment_from_form(form),
            trigger=form.get("trigger") or "manual",
            trigger_at=_utc(form.get("trigger_at", ""), "trigger_at"),
            trigger_stage=form.get("trigger_stage") or None,
            pace_per_minute=int(pace) if pace else None)
    except SegmentError as exc:
        session.rollback()
        return _page(campaign, form, exc), 400
    session.commit()
    flash(translate("console_wave_created", name=wave.name, status=wave.status))
    return redirect(console_url("console.waves", campaign=campaign.slug))


@bp.post("/waves/<int:wave_id>/<any(launch, pause, resume, cancel):change>")
@require_role("organizer")
def change(wave_id: int, change: str) -> Response:
    wave = db().get(Wave, wave_id)
    if wave is None:
        abort(404, description="No such wave.")
    campaign = db().get(Campaign, wave.campaign_id)
    slug = campaign.slug if campaign else None
    moved = WAVE_CHANGES[change](db(), wave_id)
    flash(translate("console_wave_" + change if moved else "console_wave_refused",
                    id=wave_id, change=change))
    return redirect(console_url("console.waves", campaign=slug))
