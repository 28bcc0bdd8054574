"""gunicorn settings for ``actionwave web`` (and for the benchmarks, which serve the same way).

gevent workers: a submission mostly waits (on the group commit, on Redis), and greenlets wait
without the GIL hand-offs that stalled a thread pool's batch threads under load (psycopg 3
cooperates with gevent by itself). Measured in ``bench/intake.py``.
"""

from __future__ import annotations

from typing import Any

worker_class = "gevent"
worker_connections = 1000  # open connections per process
graceful_timeout = 10


def post_request(worker: Any, req: Any, environ: Any, resp: Any) -> None:
    """Let this process's other connections run before serving this one's next request.

    A request answered from memory (a ZIP lookup) never waits, and a client that sends its next
    request at once would otherwise keep the process to itself while other connections starve
    (p99 above one second at saturation in ``bench/lookup.py``).
    """
    import gevent

    gevent.sleep(0)
