"""The Flask application factory."""

from __future__ import annotations

import logging

from flask import Flask

from actionwave.config import Settings
from actionwave.services import Services


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    """Build the web app. Tests pass their own ``settings``; production reads the environment."""
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https"),
        JSON_SORT_KEYS=False,
    )
    app.extensions["actionwave"] = services or Services(settings)
    logging.basicConfig(level=settings.log_level)

    from web import api, errors, i18n, public

    errors.init_app(app)
    i18n.init_app(app)
    app.register_blueprint(public.bp)
    app.register_blueprint(api.bp, url_prefix="/api/v1")
    return app
