"""gunicorn's own records (start, stop, a worker's death) and one access line per request, as
the same redacted JSON lines as the app's (``actionwave.platform.logs``), at ``LOG_LEVEL``.

An access line names the method, the path (never the query string: unsubscribe links carry a
token), the status, the time taken and the request id; never the client's address (supporters'
addresses are kept only hashed, ``web.api.ip_hash``).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from gunicorn import glogging

from actionwave.platform.config import Settings
from actionwave.platform.logs import configure_logging, loggable_path


class JsonLogger(glogging.Logger):
    """gunicorn's ``logger_class``: its loggers hand their records to the app's JSON handler."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            log.setLevel(logging.NOTSET)  # LOG_LEVEL, on the root logger, decides
            log.propagate = True
        # The master never builds the app, so its logging is configured here.
        configure_logging(Settings.from_env())

    def _set_handler(self, log: logging.Logger, output: str | None, fmt: logging.Formatter,
                     stream: Any = None) -> None:
        """gunicorn's own plain-text handlers: none (the records propagate to ours)."""

    def access(self, resp: Any, req: Any, environ: dict[str, Any],
               request_time: timedelta) -> None:
        if not self.access_log.isEnabledFor(logging.INFO):
            return
        request_id = next((value for name, value in resp.headers
                           if name.lower() == "x-request-id"), None)
        duration_ms = round(request_time.total_seconds() * 1000, 1)
        # gunicorn's own error answers (after an app crash) carry only ``status``.
        status = getattr(resp, "status_code", None) or str(resp.status).split(" ")[0]
        path = loggable_path(req.path)  # an unsubscribe token is logged as <token>
        self.access_log.info(
            "%s %s %s %.1f ms", req.method, path, status, duration_ms,
            extra={"request_id": request_id, "fields": {
                "method": req.method, "path": path, "status": status,
                "duration_ms": duration_ms, "bytes": resp.sent}})
