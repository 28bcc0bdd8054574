"""The peer we measure the intake against: a minimal Flask app that calls a Celery task's .delay().

It is what most tutorials build: nothing stored, the broker is the only record of a submission.
"""

from __future__ import annotations

import os

from celery import Celery
from flask import Flask, jsonify, request


def create_app() -> Flask:
    app = Flask(__name__)
    celery = Celery("baseline", broker=os.environ.get("BROKER_URL", "redis://127.0.0.1:6379/0"))
    celery.conf.task_default_queue = os.environ.get("NAMESPACE", "baseline")

    @celery.task(name="baseline.process")
    def process(payload: dict) -> None:
        """Never consumed in the benchmark; only enqueued."""

    @app.get("/healthz")
    def healthz():  # type: ignore[no-untyped-def]
        return {"status": "ok"}

    @app.post("/api/v1/campaigns/<slug>/actions")
    def submit(slug: str):  # type: ignore[no-untyped-def]
        payload = request.get_json()
        result = process.delay({"campaign": slug, **payload})
        return jsonify(id=result.id, status="accepted"), 202

    return app
