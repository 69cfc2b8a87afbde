"""Prometheus metrics: one series set per resource, plus the operator's own health.

Cardinality is bounded by the number of CloudModelServices: per-resource series carry only
namespace, name and provider (plus a fixed enum label where noted), and they are removed when
the resource is deleted. The per-provider counters exist from the start at 0 for every provider
and outcome, so `increase()` and `rate()` see the very first failure.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from kubernetes.utils.quantity import parse_quantity
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from cloudmodel_operator.api.observation import Phase, Usage
from cloudmodel_operator.api.status import CloudModelServiceStatus
from cloudmodel_operator.providers import PROVIDERS
from cloudmodel_operator.providers.base import ErrorClass

RESOURCE_LABELS = ("namespace", "name", "provider")
RESOURCE_KINDS = ("cpu", "memory", "gpu", "gpuMemory", "computeUnits")
# Every outcome a provider call can end in: success, or one of the error classes.
REQUEST_OUTCOMES = ("ok", *(error_class.value for error_class in ErrorClass))
# Why a status write failed (engine/reconcile.py): the API server refused it, or did not answer.
WRITE_FAILURE_REASONS = ("rejected", "unavailable")


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.phase = Gauge("cloudmodel_phase", "1 for the resource's current phase, 0 for the others.",
                           [*RESOURCE_LABELS, "phase"], registry=r)  # fmt: skip
        self.condition = Gauge("cloudmodel_condition", "1 when the condition has this status.",
                               [*RESOURCE_LABELS, "type", "status"], registry=r)  # fmt: skip
        self.replicas_ready = Gauge(
            "cloudmodel_replicas_ready", "Ready replicas.", RESOURCE_LABELS, registry=r
        )
        self.replicas_desired = Gauge(
            "cloudmodel_replicas_desired", "Desired replicas.", RESOURCE_LABELS, registry=r
        )
        # Capacity and usage of one resource kind; `_total` would mark a counter, so not resource_total.
        self.resource_capacity = Gauge("cloudmodel_resource_capacity", "Provider capacity (cores, bytes, cards, units).",
                                       [*RESOURCE_LABELS, "resource"], registry=r)  # fmt: skip
        self.resource_usage = Gauge("cloudmodel_resource_usage", "Provider usage (cores, bytes, cards, units).",
                                    [*RESOURCE_LABELS, "resource"], registry=r)  # fmt: skip
        self.expiry = Gauge("cloudmodel_expiry_timestamp_seconds", "When the provider resource expires.",
                            RESOURCE_LABELS, registry=r)  # fmt: skip
        self.last_sync = Gauge("cloudmodel_last_sync_timestamp_seconds", "Last successful fetch.",
                               RESOURCE_LABELS, registry=r)  # fmt: skip
        self.failures = Gauge("cloudmodel_consecutive_failures", "Failed fetches in a row.",
                              RESOURCE_LABELS, registry=r)  # fmt: skip
        self.requests = Counter("cloudmodel_provider_requests", "Provider API calls by outcome.",
                                ["provider", "outcome"], registry=r)  # fmt: skip
        self.latency = Histogram("cloudmodel_provider_request_duration_seconds", "Provider API call latency.",
                                 ["provider"], registry=r,
                                 buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))  # fmt: skip
        self.rate_limit_wait = Counter("cloudmodel_rate_limit_wait_seconds",
                                       "Time polls were put off waiting for the provider budget's token.",
                                       ["provider"], registry=r)  # fmt: skip
        self.status_writes = Counter("cloudmodel_status_writes", "Status patches written.", registry=r)
        self.poll_lateness = Histogram("cloudmodel_poll_lateness_seconds", "How late polls start.", registry=r,
                                       buckets=(0.1, 0.5, 1, 5, 15, 60))  # fmt: skip
        self.watched = Gauge(
            "cloudmodel_watched_resources", "CloudModelServices the operator knows.", registry=r
        )
        self._known: dict[tuple[str, str], str] = {}
        self._series: dict[tuple[str, str], set[tuple[Gauge, tuple[str, ...]]]] = {}
        for provider in PROVIDERS:
            for outcome in REQUEST_OUTCOMES:
                self.requests.labels(provider, outcome)
            self.latency.labels(provider)
            self.rate_limit_wait.labels(provider)
        self._engine_metrics(r)

    def _engine_metrics(self, r: CollectorRegistry) -> None:
        self.owned = Gauge("cloudmodel_owned_resources", "CloudModelServices in the shards this replica owns.",
                           registry=r)  # fmt: skip
        self.queue_due = Gauge("cloudmodel_queue_due", "Resources due for a pass that no worker has taken yet.",
                               registry=r)  # fmt: skip
        self.queue_in_flight = Gauge("cloudmodel_queue_in_flight", "Passes being worked on.", registry=r)
        self.passes = Counter("cloudmodel_passes", "Passes by kind (poll, repair) and result.",
                              ["kind", "result"], registry=r)  # fmt: skip
        self.repairs = Counter("cloudmodel_status_repairs",
                               "Status writes that put back what another client changed or wiped.",
                               registry=r)  # fmt: skip
        self.write_failures = Counter("cloudmodel_status_write_failures", "Status writes that failed, by reason.",
                                      ["reason"], registry=r)  # fmt: skip
        for reason in WRITE_FAILURE_REASONS:
            self.write_failures.labels(reason)  # from 0, so increase() sees the first failure
        self.kube_requests = Counter("cloudmodel_kube_requests", "Kubernetes API requests by verb and code.",
                                     ["verb", "code"], registry=r)  # fmt: skip
        self.kube_latency = Histogram("cloudmodel_kube_request_duration_seconds", "Kubernetes API request latency.",
                                      ["verb"], registry=r,
                                      buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10))  # fmt: skip
        self.budget_demand = Gauge(
            "cloudmodel_provider_budget_demand_ratio",
            "Calls per second the resources sharing one provider account need, over the budget's rate "
            "(above 1: their polls run late).",
            ["provider", "account"], registry=r,
        )  # fmt: skip
        self.shard_owned = Gauge("cloudmodel_shard_owned", "1 for each shard this replica owns.",
                                 ["shard"], registry=r)  # fmt: skip
        self.shards = Gauge("cloudmodel_shards", "The number of shards resources are split into.", registry=r)
        # Not `_counter` or `_total`: those name types, and this is a gauge holding the provider's number.
        self.provider_counter = Gauge(
            "cloudmodel_provider_reported_value",
            "A running total the provider reports for the target (e.g. ModelArts invocations): kept out of "
            "the status because it changes on every poll.",
            [*RESOURCE_LABELS, "counter"], registry=r,
        )  # fmt: skip
        self.credentials_valid = Gauge(
            "cloudmodel_credentials_valid",
            "1 when the last provider call with this Secret's credentials worked, 0 while they fail.",
            ["namespace", "secret"], registry=r,
        )  # fmt: skip
        self.credentials_failure = Gauge(
            "cloudmodel_credentials_failure_info", "1 while the Secret's credentials fail, with the error class.",
            ["namespace", "secret", "error_class"], registry=r,
        )  # fmt: skip
        self.credentials_since = Gauge(
            "cloudmodel_credentials_state_since_timestamp_seconds",
            "When the Secret's credentials last turned valid or failing.",
            ["namespace", "secret"], registry=r,
        )  # fmt: skip
        self.credentials_expiry = Gauge(
            "cloudmodel_credentials_expiry_timestamp_seconds",
            "When temporary credentials in the Secret stop working, where the Secret says so.",
            ["namespace", "secret"], registry=r,
        )  # fmt: skip

    def request(self, provider: str, outcome: str, seconds: float) -> None:
        self.requests.labels(provider, outcome).inc()
        self.latency.labels(provider).observe(seconds)

    def rate_limited(self, provider: str, seconds: float) -> None:
        self.rate_limit_wait.labels(provider).inc(seconds)

    def poll_late(self, seconds: float) -> None:
        self.poll_lateness.observe(max(seconds, 0.0))

    def status_changed(self, body: dict[str, Any], status: CloudModelServiceStatus) -> None:
        """The operator wrote this status."""
        self.status_writes.inc()
        self.observe_status(body, status)

    def observe_status(self, body: dict[str, Any], status: CloudModelServiceStatus) -> None:
        """Export a resource's status (one this replica owns) as its per-resource series."""
        meta = body.get("metadata", {})
        namespace, name = meta.get("namespace", ""), meta.get("name", "")
        provider = str(body.get("spec", {}).get("provider", ""))
        if self._known.get((namespace, name), provider) != provider:
            self.resource_gone(namespace, name)
        self._known[(namespace, name)] = provider
        labels = (namespace, name, provider)
        put = self._series_setter(namespace, name)
        for phase in Phase:
            put(self.phase, (*labels, phase.value), 1 if status.phase is phase else 0)
        for condition in status.conditions:
            for value in ("True", "False", "Unknown"):
                put(self.condition, (*labels, condition.type, value), 1 if condition.status == value else 0)
        replicas = status.replicas
        put(self.replicas_ready, labels, replicas.ready if replicas else None)
        put(self.replicas_desired, labels, replicas.desired if replicas else None)
        for kind in RESOURCE_KINDS:
            usage: Usage | None = getattr(status.resources, kind) if status.resources else None
            put(self.resource_capacity, (*labels, kind), _number(usage.total) if usage else None)
            put(self.resource_usage, (*labels, kind), _number(usage.used) if usage else None)
        expiry = status.billing.expirationTime if status.billing else None
        put(self.expiry, labels, expiry.timestamp() if expiry else None)
        put(self.last_sync, labels, status.lastSyncTime.timestamp() if status.lastSyncTime else None)
        put(self.failures, labels, status.failure.consecutiveFailures if status.failure else 0)

    def _series_setter(
        self, namespace: str, name: str
    ) -> Callable[[Gauge, tuple[str, ...], float | None], None]:
        """Sets (or, for None, removes) one series of a resource, remembering it for `resource_gone`."""
        series = self._series.setdefault((namespace, name), set())

        def put(gauge: Gauge, labels: tuple[str, ...], value: float | None) -> None:
            if value is None:
                with contextlib.suppress(KeyError):
                    gauge.remove(*labels)
                series.discard((gauge, labels))
            else:
                gauge.labels(*labels).set(value)
                series.add((gauge, labels))

        return put

    def resource_gone(self, namespace: str, name: str) -> None:
        # Each resource's own series are remembered where they are set: removing them must not
        # scan every series (handing a shard of thousands over did, for seconds on end).
        self._known.pop((namespace, name), None)
        for gauge, labels in self._series.pop((namespace, name), ()):
            with contextlib.suppress(KeyError):
                gauge.remove(*labels)

    def kube_request(self, verb: str, code: int, seconds: float) -> None:
        self.kube_requests.labels(verb, str(code) if code else "none").inc()
        self.kube_latency.labels(verb).observe(seconds)

    def credentials_health(
        self, namespace: str, secret: str, valid: bool | None, error_class: str | None,
        since: float | None, expires: float | None,
    ) -> None:  # fmt: skip
        labels = (namespace, secret)
        for metric in (self.credentials_valid, self.credentials_since, self.credentials_expiry):
            with contextlib.suppress(KeyError):
                metric.remove(*labels)
        for key in [k for k in self.credentials_failure._metrics if k[:2] == labels]:
            self.credentials_failure.remove(*key)
        if valid is None:
            return  # unused or not tried yet: no series
        self.credentials_valid.labels(*labels).set(1 if valid else 0)
        if error_class is not None and not valid:
            self.credentials_failure.labels(*labels, error_class).set(1)
        if since is not None:
            self.credentials_since.labels(*labels).set(since)
        if expires is not None:
            self.credentials_expiry.labels(*labels).set(expires)

    def counters(self, namespace: str, name: str, provider: str, values: dict[str, float]) -> None:
        put = self._series_setter(namespace, name)
        for counter, value in values.items():
            put(self.provider_counter, (namespace, name, provider, counter), value)

    def shards_owned(self, shards: int, owned: set[int]) -> None:
        self.shards.set(shards)
        for shard in range(shards):
            self.shard_owned.labels(str(shard)).set(1 if shard in owned else 0)


def _number(quantity: str | None) -> float | None:
    if quantity is None:
        return None
    try:
        return float(parse_quantity(quantity))  # type: ignore[no-untyped-call]
    except ValueError:
        return None
