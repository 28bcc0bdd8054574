"""``POST /webhooks/sendgrid``: SendGrid's signed Event Webhook.

The ECDSA signature over timestamp + raw body is checked with the official library's helper;
unsigned requests get 401, bad signatures and stale timestamps (replays) 403. Events are then
stored once each by ``actionwave.mail.events.record_mail_events``.
"""

from __future__ import annotations

import json
import time

from flask import Blueprint, Response, abort, jsonify, request
from sendgrid.helpers.eventwebhook import EventWebhook
from sendgrid.helpers.eventwebhook.eventwebhook_header import EventWebhookHeader

from actionwave.mail.events import record_mail_events
from web.context import db, services
from web.errors import error_response

bp = Blueprint("webhooks", __name__)
# SendGrid posts up to thousands of events at once; the form limit (MAX_BODY_BYTES) is too small.
MAX_WEBHOOK_BYTES = 8 * 1024 * 1024


@bp.before_request
def allow_large_batches() -> None:
    request.max_content_length = MAX_WEBHOOK_BYTES
    if (request.content_length or 0) > MAX_WEBHOOK_BYTES:  # refused before the signature check
        abort(413)


@bp.post("/webhooks/sendgrid")
def sendgrid_events() -> tuple[Response, int]:
    settings = services().settings
    signature = request.headers.get(EventWebhookHeader.SIGNATURE)
    timestamp = request.headers.get(EventWebhookHeader.TIMESTAMP)
    if not signature or not timestamp:
        return error_response(401, "signature", "The request is not signed.")
    if not settings.sendgrid_webhook_public_key:
        return error_response(403, "signature", "Webhook verification is not configured.")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > (
            settings.sendgrid_webhook_max_age_seconds):
        return error_response(403, "timestamp", "The signed timestamp is too old or invalid.")
    payload = request.get_data(as_text=True)
    try:
        verifier = EventWebhook(settings.sendgrid_webhook_public_key)
        valid = verifier.verify_signature(payload, signature, timestamp)
    except ValueError:  # a malformed key or signature (base64, DER) proves nothing
        valid = False
    if not valid:
        return error_response(403, "signature", "The signature does not match.")
    try:
        events = json.loads(payload)
    except ValueError:
        return error_response(400, "body", "Expected a JSON array of events.")
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        return error_response(400, "body", "Expected a JSON array of events.")
    summary = record_mail_events(db(), events)
    return jsonify(stored=summary.stored, repeated=summary.repeated, skipped=summary.skipped,
                   suppressed=summary.suppressed), 200
