"""How the engine paces and retries deliveries: batch size, leases, attempts, backoff, limits."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from actionwave.platform.config import Settings
from actionwave.platform.logs import secret_values


@dataclass(frozen=True)
class DeliveryPolicy:
    """The engine's knobs for one channel. ``provider_per_minute`` and ``office_per_minute`` of
    0 lift those limits."""

    batch_size: int = 500
    lease_seconds: float = 120.0
    max_attempts: int = 8
    backoff_seconds: float = 5.0
    backoff_max_seconds: float = 3600.0
    provider_per_minute: float = 600.0
    office_per_minute: float = 60.0
    lookup_grace_seconds: float = 60.0
    # The values of the secret settings: scrubbed from every reason stored as ``last_error``,
    # whatever a provider or its client library put in its error text.
    secrets: tuple[str, ...] = field(default=(), repr=False)

    @classmethod
    def from_settings(cls, settings: Settings, provider: str = "sendgrid") -> DeliveryPolicy:
        """The policy for a sender's ``provider`` (``sendgrid`` or ``cwc``: each has its own
        global request limit). Raises ``KeyError`` for another provider."""
        per_minute = {"sendgrid": settings.sendgrid_requests_per_minute,
                      "cwc": settings.cwc_requests_per_minute}[provider]
        return cls(
            batch_size=settings.delivery_batch_size,
            lease_seconds=settings.delivery_lease_seconds,
            max_attempts=settings.delivery_max_attempts,
            backoff_seconds=settings.delivery_backoff_seconds,
            backoff_max_seconds=settings.delivery_backoff_max_seconds,
            provider_per_minute=per_minute,
            office_per_minute=settings.office_messages_per_minute,
            lookup_grace_seconds=settings.delivery_lookup_grace_seconds,
            secrets=tuple(secret_values(settings)),
        )

    def claim_limit(self) -> int:
        """No more than the provider lets through in a quarter of a lease, so leases hold."""
        if self.provider_per_minute <= 0:
            return self.batch_size
        quarter_lease = int(self.provider_per_minute * self.lease_seconds / 240)
        return max(1, min(self.batch_size, quarter_lease))

    def retry_delay(self, attempts: int, after: float | None) -> float:
        """Exponential backoff with "equal jitter": between half the ceiling and the ceiling,
        never sooner than the provider asked.

        The floor is what lets a delivery outlast an outage: with the defaults (5 s doubling,
        8 attempts) the seven waits add up to at least 317 s of a provider answering 5xx. With
        full jitter (anywhere from 0) they could add up to under a minute: about 1 delivery in
        1,000 went dead in a one-minute outage (a simulation of the draws)."""
        ceiling = min(self.backoff_max_seconds, self.backoff_seconds * 2 ** max(0, attempts - 1))
        return max(after or 0.0, random.uniform(ceiling / 2, ceiling))
