"""Reading Prometheus text exposition: the operator's /metrics and the API server's /metrics."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families


@dataclass(frozen=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float


def parse(text: str, names: Iterable[str] | None = None) -> list[Sample]:
    """Samples of the exposition; with `names`, only those sample names (cheap on large pages).

    The API server's page has hundreds of thousands of lines; lines are filtered by prefix
    before the parser sees them.
    """
    if names is not None:
        wanted = tuple(names)
        text = "\n".join(
            line for line in text.splitlines() if line.startswith(wanted) and not line.startswith("#")
        )
        text += "\n"
    result = []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if names is None or sample.name in wanted:
                result.append(Sample(sample.name, dict(sample.labels), float(sample.value)))
    return result


def _matches(sample: Sample, name: str, filters: dict[str, str]) -> bool:
    return sample.name == name and all(sample.labels.get(k) == v for k, v in filters.items())


def total(samples: Iterable[Sample], name: str, **filters: str) -> float:
    """Sum of every series of `name` whose labels match `filters`."""
    return sum(s.value for s in samples if _matches(s, name, filters))


def by_label(samples: Iterable[Sample], name: str, label: str, **filters: str) -> dict[str, float]:
    grouped: dict[str, float] = defaultdict(float)
    for s in samples:
        if _matches(s, name, filters):
            grouped[s.labels.get(label, "")] += s.value
    return dict(grouped)


def buckets(samples: Iterable[Sample], histogram: str, **filters: str) -> dict[float, float]:
    """Cumulative bucket counts of a histogram keyed by upper bound, summed over series."""
    counts: dict[float, float] = defaultdict(float)
    for s in samples:
        if _matches(s, f"{histogram}_bucket", filters):
            bound = s.labels["le"]
            counts[math.inf if bound in ("+Inf", "Inf") else float(bound)] += s.value
    return dict(counts)


def delta(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    return {key: after[key] - before.get(key, 0.0) for key in after if after[key] - before.get(key, 0.0)}
