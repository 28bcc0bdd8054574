"""Coverage: how each office is reached, counted by chamber and state; the offices with no
channel; an address added by hand; and office channels in bulk as CSV (upload, preview the
changes, confirm; or download the current ones)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar

from flask import Response, flash, redirect, render_template, request
from werkzeug.wrappers import Response as BaseResponse

from actionwave.campaigns.coverage import CoverageError, add_target_address, coverage
from actionwave.campaigns.coverage_csv import (
    CoverageImportError,
    ImportPlan,
    RowError,
    apply_import,
    export_channels,
    plan_import,
)
from actionwave.cwc.client import CwcClient
from actionwave.messages.compose_links import CHANNELS
from web.console import bp, console_url
from web.console.auth import require_role
from web.console.campaigns import chosen_campaign
from web.context import db, services
from web.i18n import translate

# A CSV of every office is about 60 KB; the public body limit (MAX_BODY_BYTES) is much smaller.
UPLOAD_BYTES = 2 * 1024 * 1024
F = TypeVar("F", bound=Callable[..., Any])


def allow_upload(view: F) -> F:
    """Let this view's request body reach ``UPLOAD_BYTES`` (set before the form is parsed)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        request.max_content_length = UPLOAD_BYTES
        request.max_form_memory_size = UPLOAD_BYTES
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _page(error: CoverageError | None = None, plan: ImportPlan | None = None,
          csv_text: str = "") -> tuple[str, int]:
    campaign = chosen_campaign()
    shown = request.values.get("show", "none")
    shown = shown if shown in CHANNELS else "none"
    report = coverage(db(), campaign.id, cwc_enabled=CwcClient.configured(services().settings))
    failed = error is not None or (plan is not None and bool(plan.errors))
    return render_template("console/coverage.html", campaign=campaign, report=report,
                           shown=shown, rows=report.with_channel(shown), channels=CHANNELS,
                           error=error, form=request.form, plan=plan, csv_text=csv_text,
                           ), 400 if failed else 200


@bp.get("/coverage")
@require_role("viewer")
def coverage_page() -> tuple[str, int]:
    return _page()


@bp.post("/coverage/addresses")
@require_role("organizer")
def add_address() -> BaseResponse | tuple[str, int]:
    campaign = chosen_campaign()
    form = request.form
    scope = None if form.get("scope") == "all" else campaign.id
    try:
        added = add_target_address(db(), scope, form.get("bioguide_id", ""),
                                   form.get("email", ""), form.get("label", ""))
    except CoverageError as exc:
        return _page(exc)
    flash(translate("console_address_added" if added else "console_address_known",
                    email=form.get("email", "").strip(), id=form.get("bioguide_id", "")))
    return redirect(console_url("console.coverage_page", campaign=campaign.slug,
                                show=form.get("show") or None))


def _uploaded_text() -> str:
    upload = request.files.get("file")
    raw = upload.read() if upload else request.form.get("csv", "").encode()
    return raw.decode("utf-8-sig", errors="replace").replace("\r\n", "\n")


@bp.post("/coverage/import")
@allow_upload
@require_role("organizer")
def import_preview() -> tuple[str, int]:
    """The changes an uploaded CSV would make, or its bad rows; nothing is changed yet."""
    text = _uploaded_text()
    if not text.strip():
        plan = ImportPlan(0, errors=[RowError(1, "file", "empty")])
        return _page(plan=plan)
    return _page(plan=plan_import(db(), text), csv_text=text)


@bp.post("/coverage/import/confirm")
@allow_upload
@require_role("organizer")
def import_confirm() -> BaseResponse | tuple[str, int]:
    """Apply the previewed file: all its changes, or none if it no longer means the same."""
    text = request.form.get("csv", "")
    try:
        applied = apply_import(db(), text, request.form.get("fingerprint", ""))
    except CoverageImportError as exc:
        return _page(plan=ImportPlan(0, errors=exc.errors), csv_text=text)
    flash(translate("console_import_applied", n=len(applied.changes), rows=applied.rows))
    return redirect(console_url("console.coverage_page", campaign=chosen_campaign().slug))


@bp.get("/coverage.csv")
@require_role("viewer")
def coverage_csv() -> Response:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    return Response(export_channels(db()), mimetype="text/csv",
                    headers={"Content-Disposition":
                             f'attachment; filename="office-channels-{stamp}.csv"'})
