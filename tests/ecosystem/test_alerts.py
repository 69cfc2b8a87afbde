"""The shipped alerts, checked by the real promtool: they load, and each fires exactly when it should."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml

from tests.conftest import REPO
from tests.ecosystem.conftest import Fleet
from tests.ecosystem.promql import expressions_without_data, selectors
from tests.tools import run

RULE_FILE = REPO / "manifests" / "monitoring" / "prometheusrule.yaml"
ALERT_TESTS = Path(__file__).with_name("alerts.test.yaml")


def alerts() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULE_FILE.read_text())["spec"]["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    """The PrometheusRule's groups as a plain Prometheus rule file, beside the promtool tests."""
    spec = yaml.safe_load(RULE_FILE.read_text())["spec"]
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": spec["groups"]}, sort_keys=False))
    shutil.copy(ALERT_TESTS, tmp_path / ALERT_TESTS.name)
    return tmp_path


def test_promtool_accepts_the_rules(rules_dir: Path) -> None:
    result = run("promtool", "check", "rules", str(rules_dir / "rules.yaml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alerts())} rules found" in result.stdout


def test_every_alert_fires_when_it_should_and_not_otherwise(rules_dir: Path) -> None:
    result = run("promtool", "test", "rules", ALERT_TESTS.name, cwd=rules_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_each_alert_has_a_firing_and_a_silent_case() -> None:
    cases: dict[str, dict[str, int]] = {}
    for test in yaml.safe_load(ALERT_TESTS.read_text())["tests"]:
        for case in test.get("alert_rule_test", []):
            counts = cases.setdefault(case["alertname"], {"fires": 0, "silent": 0})
            counts["fires" if case.get("exp_alerts") else "silent"] += 1
    for rule in alerts():
        assert cases.get(rule["alert"], {}).get("fires"), f"{rule['alert']}: no case where it fires"
        assert cases[rule["alert"]]["silent"], f"{rule['alert']}: no case where it stays silent"


@pytest.mark.e2e
def test_every_selector_of_every_alert_matches_what_the_running_operator_exports(
    fleet: Fleet, tmp_path: Path
) -> None:
    """Evaluated by Prometheus on the real scrape, so a misspelt label value fails too."""
    found = {str(s) for rule in alerts() for s in selectors(promql_parser.parse(rule["expr"]))}
    assert expressions_without_data(tmp_path, fleet.full, sorted(found)) == ""


def test_the_service_monitor_keeps_the_operators_namespace_label() -> None:
    """Every per-resource alert groups by `namespace`: the resource's, not the scrape target's."""
    monitor = yaml.safe_load((RULE_FILE.parent / "servicemonitor.yaml").read_text())
    assert [endpoint.get("honorLabels") for endpoint in monitor["spec"]["endpoints"]] == [True]
    uses_namespace = [
        rule["alert"] for rule in alerts() if "namespace" in rule["expr"] + str(rule["annotations"])
    ]
    assert uses_namespace, "no alert reads the namespace label any more: this test guards nothing"
