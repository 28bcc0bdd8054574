"""The peer we measure the intake against: a minimal Flask app that calls a Celery task's .delay().

It is what most tutorials build: nothing stored, the broker is the only record of a submission,
and the task mails the supporter a confirmation with the SendGrid client, one request per mail.
``bench/intake.py`` measures its intake alone (no worker runs, for either app);
``bench/launch.py`` also runs its worker (``celery -A bench.baseline_app worker``), so that on
launch day both apps do the same job on the same cores.

Environment: ``BROKER_URL``, ``NAMESPACE`` (the queue), ``SENDGRID_API_KEY``,
``SENDGRID_API_HOST`` and ``MAIL_FROM``, as for Actionwave.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from flask import Flask, jsonify, request
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import CustomArg, Mail

celery = Celery("baseline", broker=os.environ.get("BROKER_URL", "redis://127.0.0.1:6379/0"))
celery.conf.task_default_queue = os.environ.get("NAMESPACE", "baseline")
mail_client = SendGridAPIClient(api_key=os.environ.get("SENDGRID_API_KEY"),
                                host=os.environ.get("SENDGRID_API_HOST", "https://api.sendgrid.com"))


@celery.task(name="baseline.process")
def process(payload: dict[str, Any]) -> None:
    """Mail the supporter a confirmation; the stub counts it under the key ``baseline:<email>``."""
    mail = Mail(from_email=os.environ.get("MAIL_FROM", "campaign@example.org"),
                to_emails=payload["email"], subject="Thank you for taking action",
                plain_text_content=f"Hi {payload.get('first_name', '')}, thank you for writing"
                                   " to your legislators.")
    mail.add_custom_arg(CustomArg("aw_key", f"baseline:{payload['email']}", p=0))
    mail_client.send(mail)


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/healthz")
    def healthz():  # type: ignore[no-untyped-def]
        return {"status": "ok"}

    @app.post("/api/v1/campaigns/<slug>/actions")
    def submit(slug: str):  # type: ignore[no-untyped-def]
        payload = request.get_json()
        result = process.delay({"campaign": slug, **payload})
        return jsonify(id=result.id, status="accepted"), 202

    return app
