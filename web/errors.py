"""Errors answered as clear JSON on the API and a plain page elsewhere; never a trace."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from actionwave.platform.batching import BatchTimeout
from actionwave.platform.logs import loggable_path
from web.context import close_db

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
# A body refused as too large is read and dropped up to this size before the 413 goes out:
# closing a socket with unread data makes the kernel send a reset, and the client then sees a
# broken connection instead of the answer. A body larger still gets the 413 and a closed
# connection (nginx in front refuses such bodies itself).
DRAIN_BYTES = 16 * 1024 * 1024
DRAIN_CHUNK = 64 * 1024


def drain_body() -> bool:
    """Read and drop the request's unread body if it is at most ``DRAIN_BYTES``; True if done."""
    length = request.content_length
    if length is None or length > DRAIN_BYTES:
        return False
    stream = request.environ.get("wsgi.input")
    left = length
    while stream is not None and left > 0:
        chunk = stream.read(min(DRAIN_CHUNK, left))
        if not chunk:
            break
        left -= len(chunk)
    return True


def error_response(status: int, field: str | None, message: str) -> tuple[Response, int]:
    return jsonify(error={"field": field, "message": message}), status


def wants_json() -> bool:
    return request.path.startswith(("/api/", "/webhooks/")) or request.is_json


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_db)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        status = exc.code or 500
        if wants_json():
            field = "body" if status in (400, 413, 415) else None
            response = app.make_response(error_response(status, field,
                                                        exc.description or exc.name))
        else:
            response = app.make_response(
                (render_template("error.html", status=status, message=exc.description), status))
        if status == 413 and not drain_body():
            response.headers["Connection"] = "close"
        return response

    @app.errorhandler(DBAPIError)
    @app.errorhandler(BatchTimeout)
    def database_unavailable(exc: DBAPIError | BatchTimeout):  # type: ignore[no-untyped-def]
        # Nothing was stored: say so honestly and ask the client to come back.
        cause = getattr(exc, "orig", None) or exc
        log.error("database error: %s", type(cause).__name__)
        if wants_json():
            response, status = error_response(
                503, None, "The service is briefly unavailable; nothing was stored. Try again."
            )
        else:
            response = app.make_response(
                (render_template("error.html", status=503, message=None), 503)
            )
            status = 503
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response, status

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        log.exception("unhandled error on %s %s", request.method, loggable_path(request.path))
        if wants_json():
            return error_response(500, None, "Internal error; it has been logged.")
        return render_template("error.html", status=500, message=None), 500
