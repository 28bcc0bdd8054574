"""congress.gov's hourly request allowance, drawn from the rate limiter the deliveries use.

congress.gov allows 5,000 requests an hour per key; every process that polls spends from the
same key, so the allowance is a bucket of ``actionwave.platform.ratelimit``: in Redis, shared by
every process, when there is one; in the process on the embedded default (one beat). The bucket
holds an hour's requests and refills continuously, so no hour ever sees more than its allowance
plus what refilled during it.
"""

from __future__ import annotations

from actionwave.platform.ratelimit import LocalRateLimiter, RateLimiter

BUCKET = "congress.gov"


class RequestBudget:
    """``per_hour`` requests an hour from ``limiter`` (default: one in this process)."""

    def __init__(self, per_hour: int, limiter: RateLimiter | None = None) -> None:
        self.per_hour = per_hour
        self.limiter = limiter or LocalRateLimiter()

    def take(self) -> float | None:
        """Spend one request. Returns None if allowed, else seconds until one is there again."""
        wait = self.limiter.take(BUCKET, self.per_hour / 60, burst=max(1, self.per_hour))
        return wait or None
