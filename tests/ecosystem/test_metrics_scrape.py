"""The running operator's /metrics, scraped for real and linted by promtool."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from cloudmodel_operator.metrics import REQUEST_OUTCOMES
from cloudmodel_operator.providers import PROVIDERS
from tests.ecosystem.conftest import Fleet
from tests.tools import run

pytestmark = pytest.mark.e2e


def test_promtool_check_metrics_finds_no_problem(fleet: Fleet) -> None:
    result = run("promtool", "check", "metrics", stdin=fleet.scrape)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (result.stdout + result.stderr).strip() == ""


def test_only_counters_end_in_total(fleet: Fleet) -> None:
    for family in text_string_to_metric_families(fleet.scrape):
        if family.type != "counter":
            assert not family.name.endswith("_total"), f"{family.name} is a {family.type}"


def test_every_provider_and_outcome_counts_from_zero(fleet: Fleet) -> None:
    """`increase()` sees the first failure only if the series existed before it."""
    counted = {
        (sample.labels["provider"], sample.labels["outcome"]): sample.value
        for family in text_string_to_metric_families(fleet.scrape)
        if family.name == "cloudmodel_provider_requests"
        for sample in family.samples
        if sample.name == "cloudmodel_provider_requests_total"
    }
    assert set(counted) == {(provider, outcome) for provider in PROVIDERS for outcome in REQUEST_OUTCOMES}
    # The fleet really called every provider.
    assert all(counted[(provider, "ok")] >= 1 for provider in PROVIDERS), counted


def test_every_resource_has_its_series(fleet: Fleet) -> None:
    phases = {
        sample.labels["name"]
        for family in text_string_to_metric_families(fleet.scrape)
        if family.name == "cloudmodel_phase"
        for sample in family.samples
        if sample.labels["namespace"] == fleet.namespace and sample.value == 1
    }
    assert phases == set(fleet.names)
