"""The shipped Grafana dashboard: valid against Grafana's schema, and every query reads real series.

The schema check is the Grafana Foundation SDK's strict decoder (hack/tools/grafana). Each query is
parsed by Prometheus's own parser (promtool, through a rule file), its metric and label names are
looked up in a real scrape of the running operator with resources in every state, and the
Prometheus engine (promtool) evaluates every query and every selector in it on that scrape: each
must return data.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import REPO
from tests.ecosystem.conftest import Fleet
from tests.ecosystem.promql import expressions_without_data, selectors
from tests.tools import run

DASHBOARD = REPO / "manifests" / "monitoring" / "cloudmodel-operator-dashboard.json"
# What Grafana substitutes before a query reaches Prometheus.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "6h", "$namespace": ".*",
                     "$provider": ".*"}  # fmt: skip


def board() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def panels() -> list[dict[str, Any]]:
    return [panel for panel in board()["panels"] if panel["type"] != "row"]


def queries() -> list[tuple[str, str]]:
    """(where, PromQL) for every panel target and every query variable, as Prometheus receives them."""
    found = [
        (f"{panel['title']}/{target['refId']}", target["expr"])
        for panel in panels()
        for target in panel["targets"]
    ]
    for variable in board()["templating"]["list"]:
        if variable["type"] == "query":
            match = re.fullmatch(r"label_values\((.+), *(\w+)\)", variable["query"]["query"])
            assert match, variable["query"]
            found.append((f"variable {variable['name']}", match.group(1)))
    return [(where, interpolate(expr)) for where, expr in found]


def interpolate(expr: str) -> str:
    for name, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(name, value)
    assert "$" not in expr, f"unknown Grafana variable in {expr}"
    return expr


def test_matches_grafanas_dashboard_schema() -> None:
    result = run("grafana-dashboard-check", str(DASHBOARD))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith(": ok")


def test_layout_is_sound() -> None:
    ids = [panel["id"] for panel in board()["panels"]]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    for panel in board()["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        covered = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not covered & cells, f"{panel['title']} overlaps another panel"
        cells |= covered
    for panel in panels():
        assert panel["description"], panel["title"]
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]


def test_prometheus_parses_every_query(tmp_path: Path) -> None:
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:query_{index}", "expr": expr} for index, (_, expr) in enumerate(queries())
    ]}]}  # fmt: skip
    (tmp_path / "queries.yaml").write_text(yaml.safe_dump(rules))
    result = run("promtool", "check", "rules", str(tmp_path / "queries.yaml"))
    assert result.returncode == 0, result.stdout + result.stderr


def scraped_series(scrape: str) -> dict[str, set[str]]:
    series: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(scrape):
        for sample in family.samples:
            series.setdefault(sample.name, set()).update(sample.labels)
    return series


@pytest.mark.e2e
def test_every_query_reads_series_the_running_operator_exports(fleet: Fleet) -> None:
    series = scraped_series(fleet.scrape)
    used: set[str] = set()
    for where, expr in queries():
        found = selectors(promql_parser.parse(expr))
        assert found, f"{where} reads no series"
        for selector in found:
            assert selector.name in series, (
                f"{where} reads {selector.name}, which the operator does not export"
            )
            for matcher in selector.matchers.matchers:
                assert matcher.name in series[selector.name], (
                    f"{where}: {selector.name} has no label {matcher.name}"
                )
            used.add(selector.name)
    # The fleet view the dashboard exists for, and the operator's own health.
    assert used >= {
        "cloudmodel_phase", "cloudmodel_condition", "cloudmodel_resource_usage", "cloudmodel_resource_capacity",
        "cloudmodel_expiry_timestamp_seconds", "cloudmodel_provider_requests_total",
        "cloudmodel_provider_request_duration_seconds_bucket", "cloudmodel_poll_lateness_seconds_bucket",
        "cloudmodel_credentials_valid", "cloudmodel_credentials_failure_info",
        "cloudmodel_credentials_state_since_timestamp_seconds", "cloudmodel_credentials_expiry_timestamp_seconds",
        "cloudmodel_provider_budget_demand_ratio", "cloudmodel_queue_due", "cloudmodel_shard_owned",
        "cloudmodel_shards", "cloudmodel_status_write_failures_total",
    }  # fmt: skip


@pytest.mark.e2e
def test_every_query_and_selector_returns_data_on_the_real_scrape(fleet: Fleet, tmp_path: Path) -> None:
    """Label values too: a selector such as outcome="throtled" parses, names real series, and is empty."""
    expressions = [expr for _, expr in queries()]
    expressions += sorted({str(s) for expr in expressions for s in selectors(promql_parser.parse(expr))})
    assert expressions_without_data(tmp_path, fleet.full, expressions) == ""


def test_shipped_as_a_grafana_sidecar_configmap() -> None:
    kustomization = yaml.safe_load((DASHBOARD.parent / "kustomization.yaml").read_text())
    generated = {g["name"]: g for g in kustomization["configMapGenerator"]}
    dashboard = generated["cloudmodel-operator-dashboard"]
    assert dashboard["files"] == [DASHBOARD.name]
    assert dashboard["options"]["labels"] == {"grafana_dashboard": "1"}
