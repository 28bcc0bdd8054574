"""The garbage collector of a long-running process (web or worker), set once it has started.

Two costs of Python's defaults under load (figures: docs/performance.md):

- Each full (oldest-generation) pass walks every object the process holds (a web process holds
  its ~1,000 modules' objects), stopping every request in it long enough to set the p99 by
  itself. ``gc.freeze()`` moves what exists at start out of the collector's sight (none of it is
  garbage: it lives as long as the process), so later full passes are short.
- The young generation is scanned every 700 net allocations by default: a submission or a
  delivery allocates a few thousand objects, nearly all freed by reference counting, so the
  collector would run every request or so for nothing. ``THRESHOLDS`` collect far less often.
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
