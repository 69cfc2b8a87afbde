"""A Prometheus scraping the sandbox fleet raises no critical alert in its first hour.

The fleet's real scrape becomes promtool's input series (held constant for an hour, timestamps
moved so that the scrape happens at promtool's time 0), and the shipped rules run over it.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import REPO
from tests.ecosystem.conftest import Fleet
from tests.tools import run

pytestmark = pytest.mark.e2e

RULE_FILE = REPO / "manifests" / "monitoring" / "prometheusrule.yaml"
MINUTES = 60


def critical_alerts() -> list[str]:
    groups = yaml.safe_load(RULE_FILE.read_text())["spec"]["groups"]
    return [
        rule["alert"]
        for group in groups
        for rule in group["rules"]
        if rule["labels"]["severity"] == "critical"
    ]


def input_series(
    scrape: str, scraped_at: float, expiry_override: float | None = None
) -> list[dict[str, str]]:
    series = [{"series": 'up{job="cloudmodel-system/cloudmodel-operator-metrics"}', "values": f"1x{MINUTES}"}]
    for family in text_string_to_metric_families(scrape):
        for sample in family.samples:
            value = sample.value
            if sample.name.endswith("_timestamp_seconds"):
                value = (
                    expiry_override if expiry_override and "expiry" in sample.name else value
                ) - scraped_at
            labels = ", ".join(f"{key}={json.dumps(val)}" for key, val in sorted(sample.labels.items()))
            series.append({"series": f"{sample.name}{{{labels}}}", "values": f"{value!r}x{MINUTES}"})
    return series


def promtool_test(tmp_path: Path, series: list[dict[str, str]]) -> Any:
    spec = yaml.safe_load(RULE_FILE.read_text())["spec"]
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": spec["groups"]}))
    cases = [{"eval_time": f"{minute}m", "alertname": alert, "exp_alerts": []}
             for alert in critical_alerts() for minute in (1, 15, MINUTES)]  # fmt: skip
    test = {"rule_files": ["rules.yaml"], "evaluation_interval": "1m",
            "tests": [{"interval": "1m", "input_series": series, "alert_rule_test": cases}]}  # fmt: skip
    (tmp_path / "sandbox.test.yaml").write_text(yaml.safe_dump(test, width=10_000))
    return run("promtool", "test", "rules", "sandbox.test.yaml", cwd=tmp_path)


def test_the_sandbox_raises_no_critical_alert(fleet: Fleet, tmp_path: Path) -> None:
    assert "cloudmodel_expiry_timestamp_seconds" in fleet.scrape  # the samples have subscriptions
    result = promtool_test(tmp_path, input_series(fleet.scrape, fleet.scraped_at))
    assert result.returncode == 0, result.stdout + result.stderr


def test_with_the_seed_documents_past_dates_it_would(fleet: Fleet, tmp_path: Path) -> None:
    """The control: the same fleet with the seed examples' expiry dates trips the expiry alert."""
    seed_expiry = datetime(2026, 1, 28, 7, 44, 27, tzinfo=UTC).timestamp()
    result = promtool_test(
        tmp_path, input_series(fleet.scrape, fleet.scraped_at, expiry_override=seed_expiry)
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert re.search(r"alertname: CloudModelServiceExpired\b", output), output
