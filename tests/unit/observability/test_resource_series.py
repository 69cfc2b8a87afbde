"""A resource's series leave with it, and only its own."""

from __future__ import annotations

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from cloudmodel_operator.api.status import CloudModelServiceStatus
from cloudmodel_operator.metrics import Metrics

STATUS = CloudModelServiceStatus.model_validate(
    {
        "observedGeneration": 1,
        "phase": "Ready",
        "lastSyncTime": "2026-11-01T00:00:00Z",
        "replicas": {"desired": 2, "ready": 2},
        "resources": {"gpu": {"total": "4", "used": "2"}, "computeUnits": {"total": "8", "used": "8"}},
        "billing": {"expirationTime": "2026-12-01T00:00:00Z"},
        "conditions": [{"type": "Ready", "status": "True", "reason": "Available", "message": "",
                        "lastTransitionTime": "2026-11-01T00:00:00Z", "observedGeneration": 1}],
    }
)  # fmt: skip


def body(name: str) -> dict[str, object]:
    return {"metadata": {"namespace": "ns", "name": name}, "spec": {"provider": "huawei-modelarts"}}


def names_with_series(metrics: Metrics) -> dict[str, int]:
    found: dict[str, int] = {}
    for family in text_string_to_metric_families(generate_latest(metrics.registry).decode()):
        for sample in family.samples:
            if "name" in sample.labels and sample.labels.get("namespace") == "ns":
                found[sample.labels["name"]] = found.get(sample.labels["name"], 0) + 1
    return found


def test_gone_removes_every_series_of_the_resource_and_nothing_else() -> None:
    metrics = Metrics()
    for name in ("a", "b"):
        metrics.status_changed(body(name), STATUS)
        metrics.counters("ns", name, "huawei-modelarts", {"invocations": 3.0})
    before = names_with_series(metrics)
    assert before["a"] == before["b"] > 10
    metrics.resource_gone("ns", "a")
    assert names_with_series(metrics) == {"b": before["b"]}
    metrics.resource_gone("ns", "a")  # twice is harmless


def test_a_series_cleared_by_a_later_status_is_not_removed_twice() -> None:
    metrics = Metrics()
    metrics.status_changed(body("a"), STATUS)
    emptier = STATUS.model_copy(update={"replicas": None, "resources": None, "billing": None})
    metrics.status_changed(body("a"), emptier)
    assert 0 < names_with_series(metrics)["a"] < 30
    metrics.resource_gone("ns", "a")
    assert names_with_series(metrics) == {}
