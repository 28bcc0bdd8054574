"""gunicorn settings for ``actionwave web`` (and for the benchmarks, which serve the same way).

gevent workers: a submission mostly waits (on the group commit, on Redis), and greenlets wait
without the GIL hand-offs that stalled a thread pool's batch threads under load (psycopg 3
cooperates with gevent by itself). Measured in ``bench/intake.py``.
"""

from __future__ import annotations

from typing import Any

from actionwave.platform.config import Settings

worker_class = "gevent"
worker_connections = 1000  # open connections per process
# Each process listens on a socket of its own (SO_REUSEPORT) and the kernel spreads new
# connections over them. On one shared socket whichever process was awake took what waited, and
# connections opened at once often split 14/50 between two processes; the crowded one answered
# twice as slowly (docs/performance.md).
reuse_port = True
# A stopping process finishes what it holds: longer than a submission's longest wait (the group
# commit's 20 s). docker-compose's stop_grace_period is longer still (docs/deploy.md).
graceful_timeout = round(Settings.from_env().web_graceful_timeout_seconds)
# Idle connections from the proxy stay open longer than nginx keeps them (its upstream
# keepalive_timeout, deploy/nginx): nginx, not gunicorn, closes them, so it never reuses a
# connection gunicorn has just closed (a 502).
keepalive = 75
logger_class = "web.gunicorn_logging.JsonLogger"  # JSON lines, as the app's, access lines too


def post_request(worker: Any, req: Any, environ: Any, resp: Any) -> None:
    """Let every connection with a request waiting be served before this one reads its next.

    A client that sends its next request at once finds it already there; ``gevent.sleep(0)``
    only yields to greenlets already runnable, so a few busy connections could keep being served
    while others, whose requests the loop had not polled yet, waited hundreds of milliseconds.
    ``gevent.idle()`` waits until the loop has dispatched everything pending (figures:
    docs/performance.md).
    """
    import gevent

    gevent.idle()


def post_worker_init(worker: Any) -> None:
    """Exempt what the app loaded from the garbage collector and run it less often
    (``actionwave.platform.collector``)."""
    from actionwave.platform import collector

    collector.settle()


def worker_exit(server: Any, worker: Any) -> None:
    """Close the logging handlers while gevent still runs.

    Otherwise the ones still alive (Flask's default handler, a module global) die while the
    interpreter tears its modules down, and logging's bookkeeping then takes a gevent lock whose
    module is already gone: a traceback on stderr at every worker's exit.
    """
    import logging

    logging.shutdown()
    logging._handlerList.clear()  # their weak references' callbacks must not run any more
