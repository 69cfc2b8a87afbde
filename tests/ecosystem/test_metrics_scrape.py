"""The running operator's /metrics, scraped for real and linted by promtool."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from cloudmodel_operator.metrics import REQUEST_OUTCOMES, WRITE_FAILURE_REASONS
from cloudmodel_operator.providers import PROVIDERS
from tests.ecosystem.conftest import TEMPORARY_CREDENTIALS_EXPIRE_IN, Fleet
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


def samples_of(scrape: str, name: str) -> list[tuple[dict[str, str], float]]:
    return [
        (sample.labels, sample.value)
        for family in text_string_to_metric_families(scrape)
        for sample in family.samples
        if sample.name == name
    ]


def test_every_status_write_failure_reason_counts_from_zero(fleet: Fleet) -> None:
    reasons = {
        labels["reason"]: value
        for labels, value in samples_of(fleet.sandbox.text, "cloudmodel_status_write_failures_total")
    }
    assert reasons == dict.fromkeys(WRITE_FAILURE_REASONS, 0.0)


def test_credentials_health_is_one_series_set_per_secret(fleet: Fleet) -> None:
    valid = {
        labels["secret"]: value for labels, value in samples_of(fleet.scrape, "cloudmodel_credentials_valid")
    }
    assert valid == {
        "alibaba-credentials": 1.0, "baidu-credentials": 1.0, "huawei-credentials": 1.0, "huawei-iam-user": 1.0,
        "temporary-credentials": 1.0, "wrong-credentials": 0.0, "no-such-secret": 0.0,
    }  # fmt: skip
    failing = {
        (labels["secret"], labels["error_class"])
        for labels, value in samples_of(fleet.scrape, "cloudmodel_credentials_failure_info")
        if value == 1
    }
    assert failing == {("wrong-credentials", "auth"), ("no-such-secret", "missing")}
    expiry = {
        labels["secret"]: value
        for labels, value in samples_of(fleet.scrape, "cloudmodel_credentials_expiry_timestamp_seconds")
    }
    assert set(expiry) == {"temporary-credentials"}
    left = expiry["temporary-credentials"] - fleet.full.at
    assert (
        TEMPORARY_CREDENTIALS_EXPIRE_IN.total_seconds() - 600
        < left
        <= TEMPORARY_CREDENTIALS_EXPIRE_IN.total_seconds()
    )


def test_engine_series_are_exported(fleet: Fleet) -> None:
    assert samples_of(fleet.scrape, "cloudmodel_shard_owned") == [({"shard": "0"}, 1.0)]
    assert samples_of(fleet.scrape, "cloudmodel_shards") == [({}, 1.0)]
    assert samples_of(fleet.scrape, "cloudmodel_watched_resources") == [({}, float(len(fleet.names)))]
    assert samples_of(fleet.scrape, "cloudmodel_queue_due")
    demand = samples_of(fleet.scrape, "cloudmodel_provider_budget_demand_ratio")
    assert {labels["provider"] for labels, _ in demand} == set(PROVIDERS)
    assert all(0 < value < 1 for _, value in demand), demand  # nine resources at 10s on 5 calls/s
