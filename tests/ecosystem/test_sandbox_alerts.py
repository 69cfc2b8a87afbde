"""A Prometheus scraping the sandbox raises no critical alert, from its first minute to its first hour.

The sandbox's real scrape becomes promtool's input series (tests/ecosystem/promql.py: held
constant for an hour from the scrape on), and the shipped rules run over it.

The seed documents' example responses, which the simulator also serves byte for byte, carry dates
in the past (Hologres `expirationTime: 2026-01-28...`). A sample pointing at one would keep
CloudModelServiceExpired firing, and rightly so: for a real subscription that is a page. So the
samples use the sandbox's own targets, whose dates are relative to the simulator's start, and the
alert stays critical. The control proves the scrape would show it: the same operator, scraped once
a resource on the seed's Hologres example was added, does raise it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from cloudmodel_dev.sandbox import SIMULATOR_HOST, SIMULATOR_PORT, samples
from cloudmodel_dev.simulator.bodies import guardrail, seeds
from tests.conftest import REPO
from tests.ecosystem.conftest import SEED_EXAMPLE_RESOURCE, Fleet, Scrape
from tests.ecosystem.promql import MINUTES, input_series, promtool

RULE_FILE = REPO / "manifests" / "monitoring" / "prometheusrule.yaml"


def critical_alerts() -> list[str]:
    groups = yaml.safe_load(RULE_FILE.read_text())["spec"]["groups"]
    return [
        rule["alert"]
        for group in groups
        for rule in group["rules"]
        if rule["labels"]["severity"] == "critical"
    ]


def promtool_test(tmp_path: Path, scrape: Scrape) -> Any:
    spec = yaml.safe_load(RULE_FILE.read_text())["spec"]
    cases = [{"eval_time": f"{minute}m", "alertname": alert, "exp_alerts": []}
             for alert in critical_alerts() for minute in (1, 15, MINUTES)]  # fmt: skip
    test = {"interval": "1m", "input_series": input_series(scrape), "alert_rule_test": cases}
    return promtool(tmp_path, test, {"groups": spec["groups"]})


def target_id(spec: dict[str, Any]) -> str:
    """The simulator's name for the target a CloudModelService spec points at."""
    if spec["provider"] == "huawei-modelarts":
        return f"{spec['projectId']}/{spec['serviceId']}"
    if spec["provider"] == "alibaba-guardrail":
        return guardrail.target_id(str(spec["modelInstanceId"]), str(spec["sceneType"]))
    return str(spec["instanceId"])


def test_the_samples_use_the_sandbox_targets_not_the_seed_examples() -> None:
    url = f"http://{SIMULATOR_HOST}:{SIMULATOR_PORT}"
    specs = [doc["spec"] for doc in samples(REPO / "examples", url) if doc["kind"] == "CloudModelService"]
    assert {spec["provider"] for spec in specs} == set(
        seeds.EXAMPLE_STATES
    )  # one sample per provider at least
    on_seed_examples = [
        target_id(spec) for spec in specs if seeds.is_example(spec["provider"], target_id(spec))
    ]
    assert on_seed_examples == []


@pytest.mark.e2e
def test_the_sandbox_raises_no_critical_alert(fleet: Fleet, tmp_path: Path) -> None:
    assert "cloudmodel_expiry_timestamp_seconds" in fleet.sandbox.text  # the samples have subscriptions
    assert "cloudmodel_credentials_valid" in fleet.sandbox.text  # and credentials in use
    result = promtool_test(tmp_path, fleet.sandbox)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.e2e
def test_a_resource_on_the_seed_example_would(fleet: Fleet, tmp_path: Path) -> None:
    """The control: the full fleet has a resource on the seed's Hologres example; it fires Expired."""
    result = promtool_test(tmp_path, fleet.full)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    expired = re.findall(r'Labels:\{alertname="CloudModelServiceExpired", ([^}]*)\}', output)
    assert expired, output
    assert all(f'name="{SEED_EXAMPLE_RESOURCE}"' in labels for labels in expired), expired
