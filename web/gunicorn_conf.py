"""gunicorn settings for ``actionwave web`` (and for the benchmarks, which serve the same way).

gevent workers: a submission mostly waits (on the group commit, on Redis), and greenlets wait
without the GIL hand-offs that stalled a thread pool's batch threads under load (psycopg 3
cooperates with gevent by itself). Measured in ``bench/intake.py``.
"""

from __future__ import annotations

from typing import Any

from web.balance import release_slot

# gunicorn's gevent worker, keeping open connections even across processes (web/balance.py).
worker_class = "web.balance.BalancedGeventWorker"
worker_connections = 1000  # open connections per process
graceful_timeout = 10
child_exit = release_slot
# Net allocations between collections of the youngest generation, then young collections between
# collections of the middle one, then middle ones between full passes (see post_worker_init).
GC_THRESHOLDS = (50_000, 20, 100)


def post_request(worker: Any, req: Any, environ: Any, resp: Any) -> None:
    """Let every connection with a request waiting be served before this one reads its next.

    A client that sends its next request at once finds it already there; ``gevent.sleep(0)``
    only yields to greenlets already runnable, so a few busy connections could keep being served
    while others, whose requests the loop had not polled yet, waited hundreds of milliseconds.
    ``gevent.idle()`` waits until the loop has dispatched everything pending. ZIP lookups straight
    to gunicorn at 64 connections (``bench/lookup.py``): p99 300 and 29 ms with ``sleep(0)``, 24
    and 26 ms with ``idle()``; a bare Flask app: p99.9 134 to 441 ms before, 34 to 52 ms after
    (2026-11-29).
    """
    import gevent

    gevent.idle()


def post_worker_init(worker: Any) -> None:
    """Exempt what the app loaded at start from the garbage collector's full passes.

    Each full (oldest-generation) collection walked every object the app holds (about 107,000
    once its ~1,000 modules are imported): under load about one every 5 s per process, each
    stopping every request in that process for 80 to 107 ms, enough to set the p99 by itself.
    ``gc.freeze()`` moves what exists now out of the collector's sight (none of it is garbage: it
    lives as long as the process); later full passes take under 9 ms. Intake at 64 connections,
    six alternated rounds (2026-11-29): p99 68.8 ms before, 53.8 ms after, lower in every round.

    The collector also runs far less often (``GC_THRESHOLDS``, default 700, 10, 10): a submission
    allocates a few thousand objects, nearly all freed by reference counting, so the default
    scanned the young generation every request or so for nothing. Intake at 64 connections,
    alternated 8 s rounds (2026-11-30): 50,000 young against 700, 9% more submissions a second
    and a lower p99 in 4 of 4 rounds; 20 and 100 for the older generations against 10 and 10, 5%
    more in 6 of 6; turning the collector off entirely gained about 4% more, and 200,000 young
    nothing measurable.
    """
    import gc

    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
