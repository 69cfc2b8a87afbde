"""Pure arithmetic of the benchmark: percentiles, histogram quantiles, rates, ratios, schedules.

Kept free of I/O so every figure the table prints can be checked by a unit test.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile (0..1) with linear interpolation between closest ranks; None when empty."""
    if not values:
        return None
    if not 0.0 <= q <= 1.0:
        raise ValueError("q must be between 0 and 1")
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    fraction = position - low
    return ordered[low] + (ordered[high] - ordered[low]) * fraction


def histogram_quantile(buckets: Mapping[float, float], q: float) -> float | None:
    """Prometheus' `histogram_quantile` over cumulative bucket counts keyed by upper bound.

    Linear interpolation inside the bucket the rank falls in; a rank in the +Inf bucket returns
    the highest finite bound (as Prometheus does). None when there are no observations.
    """
    if not 0.0 <= q <= 1.0:
        raise ValueError("q must be between 0 and 1")
    bounds = sorted(buckets)
    if not bounds or bounds[-1] != math.inf:
        raise ValueError("buckets must include +Inf")
    total = buckets[math.inf]
    if total <= 0:
        return None
    rank = q * total
    previous_bound, previous_count = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if bound == math.inf:
                finite = [b for b in bounds if b != math.inf]
                return finite[-1] if finite else None
            if count == previous_count:
                return bound
            return previous_bound + (bound - previous_bound) * (rank - previous_count) / (
                count - previous_count
            )
        previous_bound, previous_count = bound, count
    return None  # unreachable: the +Inf bucket holds every observation


def bucket_delta(after: Mapping[float, float], before: Mapping[float, float]) -> dict[float, float]:
    """Observations that landed between two scrapes of the same cumulative histogram."""
    return {bound: after[bound] - before.get(bound, 0.0) for bound in after}


def rate(count: float, seconds: float) -> float | None:
    return count / seconds if seconds > 0 else None


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def per_thousand(value: float | None, n: int) -> float | None:
    """A figure scaled to 1,000 resources, to compare sizes (growth should be linear)."""
    if value is None or n <= 0:
        return None
    return value * 1000.0 / n


def cpu_per_minute(cpu_seconds: float, wall_seconds: float) -> float | None:
    """CPU seconds used per minute of wall time (60 = one core busy)."""
    return cpu_seconds * 60.0 / wall_seconds if wall_seconds > 0 else None


def linear_growth(per_thousand_by_n: Mapping[int, float | None]) -> float | None:
    """Per-1,000 figure at the largest N divided by the one at the smallest (1.0 = linear)."""
    known = {n: v for n, v in per_thousand_by_n.items() if v is not None}
    if len(known) < 2:
        return None
    return ratio(known[max(known)], known[min(known)])


def call_gaps(times: Sequence[float]) -> list[float]:
    """Seconds between consecutive calls of one target."""
    ordered = sorted(times)
    return [b - a for a, b in itertools.pairwise(ordered)]


def schedule_lateness(gaps: Iterable[float], interval: float, jitter: float) -> list[float]:
    """How late each poll came against the latest moment the schedule allows.

    A poll is due `interval` (jittered by +-`jitter`) after the previous one; anything later than
    `interval * (1 + jitter)` is late by the difference. On-time polls count as 0.
    """
    allowed = interval * (1.0 + jitter)
    return [max(0.0, gap - allowed) for gap in gaps]


def windows_covered(
    times_by_target: Mapping[str, Sequence[float]], start: float, end: float, interval: float
) -> list[int]:
    """For each whole interval in [start, end), how many distinct targets were called in it."""
    count = int((end - start) // interval) if interval > 0 else 0
    covered = [0] * count
    for times in times_by_target.values():
        seen = set()
        for t in times:
            if start <= t < start + count * interval:
                seen.add(int((t - start) // interval))
        for index in seen:
            covered[index] += 1
    return covered
