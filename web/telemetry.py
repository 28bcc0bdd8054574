"""Request ids, request latency, intake outcomes, and the ``/metrics`` endpoint.

``X-Request-ID`` is taken from the client (or the proxy) when it looks like an id, generated
otherwise, echoed on the response and put on every log record of the request.

``/metrics`` is for Prometheus, not the public: it answers a request bearing an admin API token
(``Authorization: Bearer <token>``, made with ``actionwave user token --role admin``) or coming
from an address in ``METRICS_ALLOWED_IPS``; anything else gets 401. ``?scope=host`` gives only
this host's counters and ``?scope=cluster`` only the database's and broker's figures
(``actionwave.system.metrics``): on many hosts, scrape each host for the first and the balancer once
for the second.
"""

from __future__ import annotations

import hmac
import logging
import re
import time
import uuid

from flask import Blueprint, Flask, Response, g, request

from actionwave.platform import logs
from actionwave.system.metrics import INTAKE_SUBMISSIONS, REQUEST_SECONDS, SCOPES, render_metrics
from web.context import services
from web.errors import error_response
from web.ratelimit import SUBMISSION_ENDPOINTS

log = logging.getLogger(__name__)
bp = Blueprint("telemetry", __name__)

REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
OUTCOME_BY_STATUS = {404: "unknown_campaign", 429: "rate_limited", 503: "unavailable"}


@bp.get("/metrics")
def metrics() -> Response | tuple[Response, int]:
    settings = services().settings
    allowed_ips = {ip.strip() for ip in settings.metrics_allowed_ips.split(",") if ip.strip()}
    if request.remote_addr not in allowed_ips and not _scrape_token(settings.metrics_token):
        response, status = error_response(
            401, None, "Metrics need the scrape token (METRICS_TOKEN) or an allowed address.")
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response, status
    scope = request.args.get("scope")
    if scope is not None and scope not in SCOPES:
        return error_response(400, "scope", f"scope: one of {', '.join(SCOPES)}")
    body, content_type = render_metrics(services(), (scope,) if scope else SCOPES)
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})


def _scrape_token(expected: str) -> bool:
    """The request carries ``Bearer <METRICS_TOKEN>``; API tokens don't open /metrics."""
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    return bool(expected) and scheme.lower() == "bearer" and hmac.compare_digest(
        sent.strip().encode(), expected.encode())


def submission_outcome(response: Response) -> str:
    """Name what the intake did with this submission: the view says (``g.intake_outcome``:
    accepted, duplicate or honeypot) unless the answer is an error."""
    if response.status_code in OUTCOME_BY_STATUS:
        return OUTCOME_BY_STATUS[response.status_code]
    if response.status_code >= 400:
        return "invalid"
    return g.get("intake_outcome", "accepted")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.before_request
    def start_request() -> None:
        g.started = time.perf_counter()
        sent = request.headers.get("X-Request-ID", "")
        g.request_id = sent if REQUEST_ID_RE.match(sent) else uuid.uuid4().hex
        logs.request_id.set(g.request_id)

    @app.after_request
    def finish_request(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        if "started" in g:
            REQUEST_SECONDS.labels(request.endpoint or "unmatched", request.method).observe(
                time.perf_counter() - g.started)
        if request.endpoint in SUBMISSION_ENDPOINTS and request.method == "POST":
            outcome = submission_outcome(response)
            INTAKE_SUBMISSIONS.labels(outcome).inc()
            log.info("intake %s (%s)", outcome, response.status_code,
                     extra={"action_id": g.get("action_id")})
        return response

    @app.teardown_request
    def forget_request(_exc: BaseException | None = None) -> None:
        logs.request_id.set(None)  # threads are reused: the next request must not inherit it
