"""The generated world must be one the CRD, the operator's spec model and the simulator all accept."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from cloudmodel_dev.bench import fleet
from cloudmodel_dev.bench.documents import MARKER, stale_status
from cloudmodel_dev.bench.kopf_peer import status_document
from cloudmodel_dev.simulator.scenario import check_target_id, parse_scenario
from cloudmodel_operator.api.observation import Observation, Phase, ServiceStatus
from cloudmodel_operator.api.spec import CloudModelServiceSpec
from cloudmodel_operator.api.status import CloudModelServiceStatus

CRD = Path(__file__).resolve().parents[3] / "crds" / "cloudmodel.io_cloudmodelservices.yaml"


def _crd_rules() -> dict[str, str]:
    """spec field -> the regular expression its CEL rule matches against."""
    crd = yaml.safe_load(CRD.read_text())
    spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
    rules = {}
    for name, schema in spec.items():
        for rule in schema.get("x-kubernetes-validations", []):
            found = re.match(r"self\.matches\('(.+?)'\)", rule["rule"])
            if found:
                rules[name] = found.group(1).replace("\\\\", "\\")
    return rules


def test_resources_spread_evenly_over_the_providers() -> None:
    members = [fleet.member(i) for i in range(1000)]
    counts = {p: sum(1 for m in members if m.provider == p) for p in fleet.PROVIDERS}
    assert set(counts.values()) == {250}
    assert len({m.target_id for m in members}) == 1000  # each resource its own target
    assert len({m.name for m in members}) == 1000


@pytest.mark.parametrize("index", [0, 1, 2, 3, 9_999, 10_199])
def test_specs_pass_the_crd_rules_and_the_operator_model(index: int) -> None:
    m = fleet.member(index)
    spec = m.spec("http://127.0.0.1:8787", 60)
    for field, pattern in _crd_rules().items():
        if field in spec and field != "credentialsSecretRef":
            assert re.fullmatch(pattern, str(spec[field])), (field, spec[field], pattern)
    parsed = CloudModelServiceSpec.model_validate(spec)
    assert parsed.target().display == fleet.display_target(m)
    check_target_id(m.provider, m.target_id)


def test_scenario_serves_every_target_with_the_secrets_accounts() -> None:
    scenario = parse_scenario(fleet.scenario(40), "bench")
    assert len(scenario.targets) == 40
    served = {(t.provider, t.id) for t in scenario.targets}
    assert all((m.provider, m.target_id) in served for m in map(fleet.member, range(40)))
    secrets = {s["metadata"]["name"]: s["stringData"] for s in fleet.secret_manifests("bench-00")}
    assert {a.accessKeyId for a in scenario.accounts.alibaba} == {
        secrets["bench-hologres"]["accessKeyId"],
        secrets["bench-guardrail"]["accessKeyId"],
    }
    assert scenario.accounts.huawei[0].secretKey == secrets["bench-modelarts"]["secretKey"]
    assert scenario.accounts.baidu[0].accessKey == secrets["bench-qianfan"]["accessKey"]


def test_namespaces_hold_a_thousand_each() -> None:
    assert fleet.member(999).namespace == "bench-00"
    assert fleet.member(1000).namespace == "bench-01"
    assert fleet.namespaces(3000) == ["bench-00", "bench-01", "bench-02"]
    assert fleet.namespaces(500) == ["bench-00"]
    assert fleet.namespaces(3001) == ["bench-00", "bench-01", "bench-02", "bench-03"]
    manifest = fleet.member(2500).manifest("http://127.0.0.1:1", 60)
    assert manifest["metadata"]["namespace"] == "bench-02"


def test_churn_changes_are_valid_simulator_changes() -> None:
    for m in map(fleet.member, range(4)):
        change = m.churn_change()
        assert change["provider"] == m.provider
        assert change["id"] == m.target_id
        assert "state" in change or "response" in change


def test_stale_status_is_a_valid_status_that_reads_as_out_of_date() -> None:
    document = stale_status(fleet.member(7))
    status = CloudModelServiceStatus.model_validate(document)
    assert status.message == MARKER
    assert status.lastSyncTime is not None
    assert status.lastSyncTime.year < 2002
    assert {c.type for c in status.conditions} == {"Ready", "Synced", "Reconciling", "Stalled"}


def test_the_peer_writes_a_valid_status_and_clears_what_it_did_not_see() -> None:
    observation = Observation(
        phase=Phase.READY,
        providerState="Running",
        services=[ServiceStatus(name="svc", phase=Phase.READY, replicas=1)],
        requestId="r-1",
    )
    document = status_document(observation, "unit-1", 3, datetime(2026, 11, 30, 10, 0, 5, tzinfo=UTC))
    assert document["message"] is None  # a merge patch null: the previous writer's message goes
    assert document["lastSyncTime"] == "2026-11-30T10:00:05Z"
    assert None not in document["services"][0].values()  # lists are replaced whole: no nulls inside
    status = CloudModelServiceStatus.model_validate({k: v for k, v in document.items() if v is not None})
    assert status.condition("Synced") is not None
    assert status.observedGeneration == 3
