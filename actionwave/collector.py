"""The garbage collector of a long-running process (web or worker), set once it has started.

Two measured costs of Python's defaults under load:

- Each full (oldest-generation) pass walked every object the process holds (about 107,000 for a
  web process once its ~1,000 modules are imported): about one every 5 s per process, each
  stopping every request in it for 80 to 107 ms, enough to set the p99 by itself. ``gc.freeze()``
  moves what exists at start out of the collector's sight (none of it is garbage: it lives as
  long as the process); later full passes take under 9 ms. Intake at 64 connections, six
  alternated rounds (2026-11-29): p99 68.8 ms before, 53.8 ms after, lower in every round.
- The young generation was scanned every 700 net allocations: a submission or a delivery
  allocates a few thousand objects, nearly all freed by reference counting, so the collector ran
  every request or so for nothing. ``THRESHOLDS`` (2026-11-30, alternated runs): the intake at 64
  connections answered 9% more submissions a second with 50,000 than with 700 (lower p99 in 4 of
  4 rounds), 5% more again with 20 and 100 for the older generations than with 10 and 10 (6 of
  6); turning the collector off gained only about 4% more, 200,000 young nothing measurable.
  ``bench/pipeline.py --quick``: 848 and 896 deliveries a second before, 1,106 and 1,091 after.
"""

from __future__ import annotations

import gc

# Net allocations between young collections; young collections between middle ones; middle
# ones between full passes (Python's defaults: 700, 10, 10).
THRESHOLDS = (50_000, 20, 100)


def settle() -> None:
    """Freeze what the process has loaded and collect less often (see the module's notes)."""
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
