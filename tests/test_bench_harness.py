"""The benchmarks pool their rounds' latencies instead of taking the median of per-round figures."""

from __future__ import annotations

import random

from bench.harness import combine
from bench.openloop import OpenLoopResult


def summary(latencies_ms: list[float]) -> dict:
    result = OpenLoopResult(offered_per_s=100.0, seconds=1.0, latencies_ms=latencies_ms)
    result.statuses[202] = len(latencies_ms)
    return {**result.summary(), "errors": 0}


def test_pooled_percentiles_are_those_of_all_requests_together() -> None:
    rng = random.Random(7)
    fast = [[rng.uniform(1, 20) for _ in range(5000)] for _ in range(2)]
    slow = [rng.uniform(1, 20) for _ in range(3000)] + [rng.uniform(60, 80) for _ in range(2000)]
    rounds = [*fast, slow]
    everything = sorted(x for r in rounds for x in r)

    combined = combine([summary(r) for r in rounds])

    true_p99 = everything[int(0.99 * len(everything))]
    true_p50 = everything[int(0.50 * len(everything))]
    assert true_p99 <= combined["p99_ms"] <= true_p99 + 0.5
    assert true_p50 <= combined["p50_ms"] <= true_p50 + 0.5
    # The median of the rounds' own p99s (about 20 ms) would hide the slow round.
    assert combined["p99_ms"] > 60
    assert combined["max_ms"] == round(everything[-1], 2)
    assert combined["accepted"] == len(everything)
    assert "quantiles_ms" not in combined and "count" not in combined
