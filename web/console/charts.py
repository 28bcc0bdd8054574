"""Geometry for the server-rendered SVG bar chart (no JavaScript library needed)."""

from __future__ import annotations

from dataclasses import dataclass

from actionwave.campaigns.reports import Bucket

WIDTH, HEIGHT, AXIS = 600, 160, 2


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    count: int


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    axis: int
    bars: list[Bar]
    peak: int
    # First, middle and last bucket labels, printed as HTML under the chart so they stay
    # readable however far the SVG is scaled down on a phone.
    ticks: list[str]


def bar_chart(buckets: list[Bucket], unit: str) -> BarChart:
    """Bars scaled to the busiest bucket, with three time labels whatever the bucket count."""
    peak = max((b.count for b in buckets), default=0)
    slot = WIDTH / max(len(buckets), 1)
    plot = HEIGHT - AXIS
    fmt = "%H:%M" if unit == "hour" else "%m-%d"
    bars = []
    for i, bucket in enumerate(buckets):
        height = plot * bucket.count / peak if peak else 0
        bars.append(Bar(x=round(i * slot + slot * 0.1, 2), y=round(plot - height, 2),
                        width=round(slot * 0.8, 2), height=round(height, 2),
                        label=bucket.start.strftime(fmt), count=bucket.count))
    tick_fmt = "%m-%d %H:%M" if unit == "hour" else "%m-%d"
    picks = [buckets[0], buckets[len(buckets) // 2], buckets[-1]] if buckets else []
    ticks = [bucket.start.strftime(tick_fmt) for bucket in picks]
    return BarChart(WIDTH, HEIGHT, AXIS, bars, peak, ticks)
