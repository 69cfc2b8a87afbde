"""Before/after readings for a window: the API server's request counters and every process' usage."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass

from cloudmodel_dev.bench import procstat, promtext
from cloudmodel_dev.bench.kubeapi import Kube
from cloudmodel_dev.bench.results import ProcessFigures
from cloudmodel_dev.bench.stats import cpu_per_minute

REQUESTS = "apiserver_request_total"
MB = 2**20


@dataclass(frozen=True)
class Snapshot:
    at: float
    requests: dict[tuple[str, str, str], float]  # (verb, resource, subresource) -> count
    usage: dict[str, procstat.Usage | None]


async def api_requests(kube: Kube) -> dict[tuple[str, str, str], float]:
    """The API server's own count of requests it served, by verb, resource and subresource."""
    samples = promtext.parse(await kube.text("/metrics"), [REQUESTS])
    counts: dict[tuple[str, str, str], float] = {}
    for s in samples:
        if not s.labels.get("resource"):
            continue  # /metrics, /readyz and other non-resource paths (our own scrapes)
        key = (s.labels.get("verb", ""), s.labels["resource"], s.labels.get("subresource", ""))
        counts[key] = counts.get(key, 0.0) + s.value
    return counts


async def terminated_watchers(kube: Kube) -> dict[str, float]:
    """Watches the API server closed because their client did not keep up, by resource."""
    samples = promtext.parse(await kube.text("/metrics"), ["apiserver_terminated_watchers_total"])
    return promtext.by_label(samples, "apiserver_terminated_watchers_total", "resource")


async def take(kube: Kube, pids: Mapping[str, int]) -> Snapshot:
    usage = {name: procstat.usage(pid) for name, pid in pids.items()}
    return Snapshot(time.time(), await api_requests(kube), usage)


def request_delta(after: Snapshot, before: Snapshot) -> dict[tuple[str, str, str], float]:
    return {
        key: value - before.requests.get(key, 0.0)
        for key, value in after.requests.items()
        if value - before.requests.get(key, 0.0) > 0
    }


def by_verb(delta: Mapping[tuple[str, str, str], float], seconds: float) -> dict[str, float]:
    verbs: dict[str, float] = {}
    for (verb, _, _), count in delta.items():
        verbs[verb] = verbs.get(verb, 0.0) + count
    return {verb: round(count / seconds, 3) for verb, count in sorted(verbs.items())} if seconds > 0 else {}


def by_resource(delta: Mapping[tuple[str, str, str], float]) -> dict[str, float]:
    return {
        f"{verb} {resource}{'/' + sub if sub else ''}": count
        for (verb, resource, sub), count in sorted(delta.items())
    }


def secret_gets(delta: Mapping[tuple[str, str, str], float]) -> float:
    return sum(
        count for (verb, resource, _), count in delta.items() if resource == "secrets" and verb == "GET"
    )


def figures(after: procstat.Usage | None, before: procstat.Usage | None, seconds: float) -> ProcessFigures:
    if after is None:
        return ProcessFigures(cpu_seconds=0.0)
    cpu = after.cpu_seconds - (before.cpu_seconds if before else 0.0)
    return ProcessFigures(
        cpu_seconds=round(cpu, 3),
        cpu_per_minute=_round(cpu_per_minute(cpu, seconds)),
        rss_mb=round(after.rss_bytes / MB, 1),
        peak_rss_mb=round(after.peak_rss_bytes / MB, 1),
    )


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def own_pid() -> int:
    return os.getpid()
