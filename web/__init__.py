"""The Flask application factory."""

from __future__ import annotations

from flask import Flask

from actionwave.platform.config import Settings
from actionwave.platform.logs import configure_logging
from actionwave.system.services import Services
from web import csrf
from web.routing import App


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    """Build the web app. Tests pass their own ``settings``; production reads the environment."""
    settings = settings or Settings.from_env()
    settings.require_redis("web")
    app = App(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https"),
        JSON_SORT_KEYS=False,
    )
    app.extensions["actionwave"] = services or Services(settings)
    app.session_interface = csrf.SessionCookies()
    configure_logging(settings)

    from web import (
        api,
        console,
        embed,
        errors,
        i18n,
        legislators,
        public,
        unsubscribe,
        waves,
        webhooks,
    )

    errors.init_app(app)
    i18n.init_app(app)
    app.register_blueprint(public.bp)
    app.register_blueprint(api.bp, url_prefix="/api/v1")
    app.register_blueprint(legislators.bp, url_prefix="/api/v1")
    app.register_blueprint(waves.bp, url_prefix="/api/v1")
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(unsubscribe.bp)
    app.register_blueprint(console.bp)
    app.register_blueprint(embed.bp)

    from web import openapi, ratelimit, security, telemetry

    app.register_blueprint(openapi.bp, url_prefix="/api/v1")
    security.init_app(app, settings)
    telemetry.init_app(app)
    ratelimit.init_app(app, settings)
    return app
