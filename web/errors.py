"""Errors answered as clear JSON on the API and a plain page elsewhere; never a trace."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from actionwave.batching import BatchTimeout
from web.context import close_db

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


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
            return error_response(status, field, exc.description or exc.name)
        return render_template("error.html", status=status, message=exc.description), status

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
        log.exception("unhandled error on %s %s", request.method, request.path)
        if wants_json():
            return error_response(500, None, "Internal error; it has been logged.")
        return render_template("error.html", status=500, message=None), 500
