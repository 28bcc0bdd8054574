"""Send claimed deliveries within the global rate limits: the engine's loop.

Rows are the truth. A worker claims a batch (``claims``), turns it into provider requests through
the channel's ``Sender``, takes a token per request from the shared buckets (``ratelimit``), sends,
and records outcomes in batches (``outcomes``) with conditional UPDATEs that only touch rows it
still holds. A worker killed between send and record leaves ``sending`` rows whose lease expires;
``actionwave.delivery.recovery`` settles those with the provider.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from actionwave.core.channels import (
    Permanent,
    ProviderError,
    RateLimited,
    Retryable,
    SendOutcome,
    Unsendable,
)
from actionwave.delivery.claims import Claimed, claim_due_deliveries, renew_leases
from actionwave.delivery.outcomes import BatchResult, Outcomes, record_outcomes
from actionwave.delivery.policy import DeliveryPolicy
from actionwave.platform.ratelimit import RateLimiter

FLUSH_EVERY = 200
FLUSH_SECONDS = 0.5
LONGEST_SLEEP_SECONDS = 2.0  # longer waits for a token go back to the table with a due time
RATE_LIMITED_SECONDS = 5.0  # a 429 without Retry-After or X-RateLimit-Reset


class Sender(Protocol):
    """One channel's way out: how claimed rows become requests, and how a request is sent."""

    provider: str

    def requests(self, claimed: Sequence[Claimed]) -> list[list[Claimed]]: ...

    def send(self, request: Sequence[Claimed]) -> str | None:
        """Raises ``Retryable`` or ``Permanent``; on return every delivery was accepted. The
        returned text (the provider's id or answer) is stored as the rows' ``provider_id``."""
        ...

    def lookup(self, key: str) -> SendOutcome: ...


def deliver_due(
    session_factory: sessionmaker[Session],
    channel: str,
    sender: Sender,
    limiter: RateLimiter,
    policy: DeliveryPolicy,
    worker_id: str,
    sleep: Callable[[float], None] = time.sleep,
) -> BatchResult:
    """Claim one batch of due deliveries of ``channel``, send it, record it. Safe to run in many
    workers at once. May block up to a few seconds for rate-limit tokens; longer waits put the
    rest of the batch back with a due time. ``result.more_due`` says whether to run again.
    """
    with session_factory() as session:
        claimed = claim_due_deliveries(
            session, channel, policy.claim_limit(), worker_id, policy.lease_seconds
        )
        lease_is_fresh_until = time.monotonic() + policy.lease_seconds / 2
        total = BatchResult(claimed=len(claimed))
        if not claimed:
            return total
        outcomes = Outcomes(channel)
        last_flush = time.monotonic()
        requests = sender.requests(claimed)
        for index, request in enumerate(requests):
            request = _within_office_limits(request, limiter, policy, outcomes)
            wait = 0.0
            if request:
                wait = _provider_token(sender.provider, limiter, policy, outcomes, sleep)
            if wait > 0:
                outcomes.postponed.extend(
                    (c.id, wait) for r in [request, *requests[index + 1:]] for c in r
                )
                break
            if request and time.monotonic() > lease_is_fresh_until:
                # Waiting for tokens may have outlasted the lease, and a sweeper may have settled
                # those rows since. Send only what this worker still holds, on a fresh lease, so
                # nothing can be settled (and sent again) while this request is in flight.
                # Before half the lease has gone, nothing can have taken them: the sweeper
                # touches only rows whose lease has run out, and the half left outlasts the
                # request's timeout. Most requests go out then, so a delivery is written twice
                # on its way (claimed, sent), not three times.
                held = renew_leases(session, [c.id for c in request], worker_id,
                                    policy.lease_seconds)
                request = [c for c in request if c.id in held]
            if request:
                _send(sender, request, limiter, outcomes)
            if len(outcomes) >= FLUSH_EVERY or time.monotonic() - last_flush > FLUSH_SECONDS:
                total.add(record_outcomes(session, outcomes, worker_id, policy))
                outcomes, last_flush = Outcomes(channel), time.monotonic()
        total.add(record_outcomes(session, outcomes, worker_id, policy))
        return total


def _within_office_limits(
    request: list[Claimed], limiter: RateLimiter, policy: DeliveryPolicy, outcomes: Outcomes
) -> list[Claimed]:
    if policy.office_per_minute <= 0:
        return request
    allowed = []
    for claimed in request:
        office = claimed.office
        wait = limiter.take(f"office:{office}", policy.office_per_minute) if office else 0.0
        if wait > 0:
            outcomes.postponed.append((claimed.id, wait))
            outcomes.waits["office"] += 1
        else:
            allowed.append(claimed)
    return allowed


def _provider_token(
    provider: str, limiter: RateLimiter, policy: DeliveryPolicy, outcomes: Outcomes,
    sleep: Callable[[float], None],
) -> float:
    """0 once a token is taken; else the (long) wait, with nothing taken. A request that did
    not find its token at once counts as one wait of the provider's bucket."""
    waited = False
    while True:
        wait = limiter.take(provider, policy.provider_per_minute)
        if wait > 0 and not waited:
            outcomes.waits[provider] += 1
            waited = True
        if wait <= 0 or wait > LONGEST_SLEEP_SECONDS:
            return wait
        sleep(wait)


def _send(sender: Sender, request: list[Claimed], limiter: RateLimiter, outcomes: Outcomes) -> None:
    try:
        provider_id = sender.send(request)
    except ProviderError as exc:
        accepted = set(exc.accepted)
        outcomes.sent.extend((c.id, None) for c in request if c.key in accepted)
        rest = [c for c in request if c.key not in accepted]
        if isinstance(exc, Retryable) and exc.after:
            limiter.pause(sender.provider, exc.after)
        if exc.in_doubt:
            outcomes.in_doubt.extend((c.id, str(exc)) for c in rest)
        elif isinstance(exc, RateLimited):  # told to slow down: later, without using a try
            delay = exc.after or RATE_LIMITED_SECONDS
            outcomes.postponed.extend((c.id, delay) for c in rest)
        elif isinstance(exc, Retryable):
            outcomes.retry.extend((c, exc.reason, exc.after) for c in rest)
        elif isinstance(exc, Permanent):
            outcomes.failed.extend((c.id, exc.reason) for c in rest)
        elif isinstance(exc, Unsendable):
            outcomes.dead.extend((c.id, exc.reason) for c in rest)
        else:
            raise
    else:
        outcomes.sent.extend((c.id, provider_id) for c in request)
