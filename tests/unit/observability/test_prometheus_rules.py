"""The shipped PrometheusRule: every expression parses as PromQL and reads only series we export."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from cloudmodel_operator import metrics as metrics_module
from cloudmodel_operator.api.status import CloudModelServiceStatus
from cloudmodel_operator.metrics import WRITE_FAILURE_REASONS, Metrics
from tests.ecosystem.promql import selectors

MANIFESTS = Path(__file__).resolve().parents[3] / "manifests"
RULES = yaml.safe_load((MANIFESTS / "monitoring" / "prometheusrule.yaml").read_text())
ALERTS = [rule for group in RULES["spec"]["groups"] for rule in group["rules"]]
# Series that Prometheus itself provides rather than the operator.
PROMETHEUS_SERIES = {"up"}
REQUIRED_ALERTS = {
    "CloudModelServiceNotReady",
    "CloudModelServiceSyncFailing",
    "CloudModelCredentialsFailing",
    "CloudModelCredentialsExpiringSoon",
    "CloudModelProviderThrottled",
    "CloudModelServiceExpiringSoon",
    "CloudModelServiceExpiresWithinADay",
    "CloudModelServiceExpired",
    "CloudModelServiceGPUExhausted",
    "CloudModelServiceComputeUnitsExhausted",
    "CloudModelProviderBudgetExhausted",
    "CloudModelPollsLate",
    "CloudModelWorkQueueBacklog",
    "CloudModelStatusWritesFailing",
    "CloudModelStatusRejected",
    "CloudModelShardUnowned",
    "CloudModelOperatorDown",
}


def exported() -> dict[str, set[str]]:
    """Series names and their label names as a live operator exposes them for one resource."""
    metrics = Metrics()
    body = {
        "metadata": {"namespace": "ns", "name": "svc", "generation": 1},
        "spec": {"provider": "baidu-qianfan"},
    }
    status = CloudModelServiceStatus.model_validate(
        {
            "observedGeneration": 1,
            "phase": "Ready",
            "lastSyncTime": "2026-11-01T00:00:00Z",
            "replicas": {"desired": 2, "ready": 2},
            "resources": {"gpu": {"total": "4", "used": "4"}, "computeUnits": {"total": "8", "used": "8"}},
            "billing": {"expirationTime": "2026-12-01T00:00:00Z"},
            "conditions": [{"type": "Ready", "status": "True", "reason": "Available", "message": "",
                            "lastTransitionTime": "2026-11-01T00:00:00Z", "observedGeneration": 1}],
        }
    )  # fmt: skip
    metrics.status_changed(body, status)
    metrics.request("baidu-qianfan", "ok", 0.1)
    metrics.request("baidu-qianfan", "auth", 0.1)
    metrics.poll_late(0.2)
    metrics.shards_owned(2, {0})
    metrics.budget_demand.labels("baidu-qianfan", "1a2b3c4d").set(0.5)
    metrics.credentials_health("ns", "creds", False, "auth", 1.0e9, 1.9e9)
    from prometheus_client import generate_latest

    series: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(generate_latest(metrics.registry).decode()):
        for sample in family.samples:
            series.setdefault(sample.name, set()).update(sample.labels)
    return series


def test_every_required_alert_is_shipped() -> None:
    assert {rule["alert"] for rule in ALERTS} >= REQUIRED_ALERTS


@pytest.mark.parametrize("rule", ALERTS, ids=lambda rule: rule["alert"])
def test_expression_parses_and_reads_exported_series(rule: dict[str, Any]) -> None:
    parsed = promql_parser.parse(rule["expr"])
    found = selectors(parsed)
    assert found, "an alert must read at least one series"
    series = exported()
    for selector in found:
        if selector.name in PROMETHEUS_SERIES:
            continue
        assert selector.name in series, (
            f"{rule['alert']} reads {selector.name}, which the operator does not export"
        )
        for matcher in selector.matchers.matchers:
            assert matcher.name in series[selector.name], f"{selector.name} has no label {matcher.name}"
    assert rule["labels"]["severity"] in {"info", "warning", "critical"}
    assert rule["annotations"]["summary"]
    assert rule["annotations"]["description"]


def test_per_resource_alerts_carry_the_resource_labels() -> None:
    series = exported()
    for name in ("cloudmodel_condition", "cloudmodel_expiry_timestamp_seconds", "cloudmodel_resource_usage"):
        assert {"namespace", "name", "provider"} <= series[name]


def test_every_write_failure_reason_the_engine_counts_starts_at_zero() -> None:
    """The engine names its reasons as literals; each must be one the metrics export from the start."""
    source = Path(metrics_module.__file__).parent / "engine" / "reconcile.py"
    counted = {
        call.args[0].value
        for call in ast.walk(ast.parse(source.read_text()))
        if isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "labels"
        and isinstance(call.func.value, ast.Attribute)
        and call.func.value.attr == "write_failures"
        and isinstance(call.args[0], ast.Constant)
    }
    assert counted, "engine/reconcile.py counts no write failure any more: update this test"
    assert counted <= set(WRITE_FAILURE_REASONS)
    series = exported()
    assert "reason" in series["cloudmodel_status_write_failures_total"]
