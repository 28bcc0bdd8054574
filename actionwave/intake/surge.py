"""Intake first: while supporters pour in, new actions wait a little before the pipeline takes them.

On launch day the web intake and the workers share cores and PostgreSQL. Resolving, planning and
mailing an action costs more CPU than accepting it, so with both at work the intake answers far
fewer submissions than alone, and every answer takes longer (docs/performance.md). While
submissions arrive faster than ``SURGE_SUBMISSIONS_PER_S``, the outbox relay publishes only the
actions stored at least ``SURGE_HOLD_SECONDS`` ago: the intake keeps the machine, and the
confirmations follow as soon as the surge ebbs, or that much later if it lasts. Nothing waits
anywhere but in the outbox table, where it was already durable. On a quiet system nothing is
held: an action is published at the relay's next poll.

The relay reads the arrival rate from the outbox's ids (a sequence: how far the newest id moved
is how many actions were stored), so it needs nothing from the web processes.
"""

from __future__ import annotations

import logging
from collections import deque
from datetime import datetime, timedelta

log = logging.getLogger(__name__)


class ArrivalRate:
    """Actions stored per second, from the newest outbox id seen at each poll."""

    def __init__(self, keep_seconds: float = 2.0) -> None:
        self.keep_seconds = keep_seconds
        self._samples: deque[tuple[float, int]] = deque()  # (monotonic time, newest id)

    def observe(self, newest_id: int | None, now: float) -> None:
        """Record the newest id seen at ``now`` (None: the outbox is empty)."""
        if newest_id is None or (self._samples and newest_id < self._samples[-1][1]):
            newest_id = self._samples[-1][1] if self._samples else 0  # nothing new arrived
        self._samples.append((now, newest_id))
        while len(self._samples) > 2 and now - self._samples[1][0] >= self.keep_seconds:
            self._samples.popleft()  # keep one sample at or before the oldest window's start

    def per_second(self, over: float) -> float:
        """The rate over about the last ``over`` seconds (from the newest sample at or before
        their start; over what there is, early on)."""
        if not self._samples:
            return 0.0
        end, last = self._samples[-1]
        start, first = next(((at, newest) for at, newest in reversed(self._samples)
                             if end - at >= over), self._samples[0])
        return (last - first) / (end - start) if end > start else 0.0

    def discount(self, count: int) -> None:
        """The next ``count`` ids are not arrivals (the relay queued them again itself)."""
        self._samples = deque((at, newest + count) for at, newest in self._samples)


class SurgeHold:
    """Decides, each time the relay polls, which actions it may publish.

    Holding starts as soon as the last half second's rate passes ``threshold_per_s`` (a launch
    starts all at once, and whatever is published before the hold takes CPU from its first
    seconds), and ends when the last two seconds' rate falls below half of it, so a surge that
    the pipeline's own resumption slows down does not flap on and off. ``threshold_per_s`` 0
    never holds.
    """

    START_OVER_SECONDS = 0.5
    END_OVER_SECONDS = 2.0
    # Between quiet and surge, an action waits this long: by then the relay has seen the rate of
    # the moment it arrived in, so the first actions of a launch wait with the rest (without it,
    # what a launch's first moments brought went out before the rate passed the threshold, and
    # the work on it slowed the intake). Below ``WATCH_FRACTION`` of the threshold the system is
    # quiet and nothing waits; at most that rate for ``START_OVER_SECONDS`` slips out unheld.
    SETTLE_SECONDS = 1.0
    WATCH_FRACTION = 0.1

    def __init__(self, threshold_per_s: float, hold_seconds: float,
                 rate: ArrivalRate | None = None) -> None:
        self.threshold_per_s = threshold_per_s
        self.hold = timedelta(seconds=hold_seconds)
        self.rate = rate or ArrivalRate()
        self.holding = False
        self.settle = timedelta(seconds=self.SETTLE_SECONDS)

    @property
    def enabled(self) -> bool:
        return self.threshold_per_s > 0 and self.hold > timedelta(0)

    def created_before(self, newest_id: int | None, now: float,
                       wall_now: datetime) -> datetime | None:
        """The newest creation time the relay may publish now; None: anything (not enabled,
        or quiet).

        ``hold_seconds`` ago while holding; ``SETTLE_SECONDS`` ago while actions arrive faster
        than ``WATCH_FRACTION`` of the threshold (a surge may be starting); None when quiet."""
        if not self.enabled:
            return None
        self.rate.observe(newest_id, now)
        if self.holding:
            rate = self.rate.per_second(self.END_OVER_SECONDS)
            change = rate < self.threshold_per_s / 2
        else:
            rate = self.rate.per_second(self.START_OVER_SECONDS)
            change = rate > self.threshold_per_s
        if change:
            self.holding = not self.holding
            if self.holding:
                log.info("intake surge: %.0f actions/s stored; new actions wait up to %g s "
                         "before the pipeline takes them", rate, self.hold.total_seconds())
            else:
                log.info("intake surge over (%.0f actions/s); the pipeline takes every action",
                         rate)
        if self.holding:
            return wall_now - self.hold
        if rate > self.threshold_per_s * self.WATCH_FRACTION:
            return wall_now - self.settle
        return None
