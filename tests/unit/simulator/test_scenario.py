"""Scenario loading and its error messages."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from cloudmodel_dev.simulator.scenario import ScenarioError, load_scenario, parse_fault, parse_scenario

SANDBOX_IDS = {
    ("alibaba-hologres", "hgpostcn-cn-sandbox-ready"),
    ("alibaba-hologres", "hgpostcn-cn-sandbox-waiting"),
    ("huawei-modelarts", "0c9d4a5e2b1f4c6d8e7f0a1b2c3d4e5f/6f1c2b9e-3d4a-4b8c-9e7f-1a2b3c4d5e6f"),
    ("huawei-modelarts", "0c9d4a5e2b1f4c6d8e7f0a1b2c3d4e5f/a3e5c7d9-1b2f-4c6e-8a0b-2d4f6a8c0e1f"),
    ("huawei-modelarts", "0c9d4a5e2b1f4c6d8e7f0a1b2c3d4e5f/c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"),
    ("huawei-modelarts", "0c9d4a5e2b1f4c6d8e7f0a1b2c3d4e5f/9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"),
    ("baidu-qianfan", "unit-sandbox-running"),
    ("baidu-qianfan", "unit-sandbox-reconfiguring"),
    ("alibaba-guardrail", "1001/scene-2"),
    # the seed documents' own examples
    ("alibaba-hologres", "hgpostcn-cn-7mz2vmuxxxx"),
    ("huawei-modelarts", "0c9d4a5e2b1f4c6d8e7f0a1b2c3d4e5f/f76f20ba-78f5-44e8-893a-37c8c600c02f"),
    ("baidu-qianfan", "unit-xxx"),
    ("alibaba-guardrail", "123/scene-2"),
}


def _error(data: object) -> str:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data, "test.yaml")
    return str(info.value)


def test_built_in_sandbox_scenario() -> None:
    scenario = load_scenario(None)
    assert {(t.provider, t.id) for t in scenario.targets} == SANDBOX_IDS
    assert scenario.accounts.alibaba[0].accessKeyId == "LTAIsandbox"
    assert scenario.accounts.huaweiUsers[0].username == "operator"
    deploying = next(t for t in scenario.targets if t.id.endswith("a3e5c7d9-1b2f-4c6e-8a0b-2d4f6a8c0e1f"))
    assert [step.after for step in deploying.timeline] == [timedelta(seconds=60), timedelta(minutes=2)]


def test_docs_list_the_sandbox_ids() -> None:
    doc = (Path(__file__).resolve().parents[3] / "docs" / "simulator.md").read_text(encoding="utf-8")
    for _, target_id in SANDBOX_IDS:
        assert target_id in doc


def test_secrets_do_not_show_in_repr() -> None:
    text = repr(load_scenario(None))
    assert "sandbox-alibaba-secret" not in text
    assert "sandbox-password" not in text


def test_load_from_file(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "targets:\n  - {provider: baidu-qianfan, id: unit-a, timeline: [{after: 90, state: Released}]}\n"
    )
    scenario = load_scenario(path)
    assert scenario.targets[0].timeline[0].after == timedelta(seconds=90)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read scenario"):
        load_scenario(tmp_path / "absent.yaml")


def test_invalid_yaml(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("targets: [\n")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(path)


def test_top_level_must_be_a_mapping() -> None:
    assert "top level must be a mapping" in _error(["targets"])


def test_empty_file_is_an_empty_scenario() -> None:
    assert parse_scenario(None).targets == []


def test_unknown_provider_names_the_location() -> None:
    message = _error({"targets": [{"provider": "aws-sagemaker", "id": "x"}]})
    assert message.startswith("test.yaml: 1 problem(s)")
    assert "targets[0].provider" in message
    assert "alibaba-hologres" in message


def test_typo_in_a_key_is_reported() -> None:
    message = _error({"targets": [{"provider": "baidu-qianfan", "id": "u", "sate": "Running"}]})
    assert "targets[0].sate: Extra inputs are not permitted" in message


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ({"provider": "huawei-modelarts", "id": "service-only"}, "'PROJECT_ID/SERVICE_ID'"),
        ({"provider": "alibaba-guardrail", "id": "1001"}, "'MODEL_INSTANCE_ID/scene-N'"),
        ({"provider": "alibaba-guardrail", "id": "1001/scene-5"}, "'MODEL_INSTANCE_ID/scene-N'"),
        ({"provider": "baidu-qianfan", "id": "a/b"}, "single instance id"),
        ({"provider": "alibaba-guardrail", "id": "1/scene-0", "state": "Running"}, "only state is 'ok'"),
        ({"provider": "baidu-qianfan", "id": "u", "timeline": [{"after": "5x"}]}, "invalid duration '5x'"),
        (
            {"provider": "baidu-qianfan", "id": "u", "timeline": [{"after": "2m"}, {"after": "1m"}]},
            "increasing",
        ),
        ({"provider": "baidu-qianfan", "id": "u", "faults": [{"kind": "boom"}]}, "targets[0].faults[0].kind"),
        (
            {"provider": "baidu-qianfan", "id": "u", "faults": [{"kind": "error", "count": 0}]},
            "count must be",
        ),
        ({"provider": "baidu-qianfan", "id": "u", "faults": [{"kind": "error", "status": 99}]}, "status"),
    ],
)
def test_target_errors(target: dict[str, object], expected: str) -> None:
    assert expected in _error({"targets": [target]})


def test_duplicate_targets() -> None:
    target = {"provider": "baidu-qianfan", "id": "u"}
    assert "defined twice" in _error({"targets": [target, target]})


def test_account_fields_are_required() -> None:
    message = _error({"accounts": {"alibaba": [{"accessKeyId": "LTAI"}]}})
    assert "accounts.alibaba[0].accessKeySecret: Field required" in message


def test_every_problem_is_listed() -> None:
    message = _error({"targets": [{"provider": "x", "id": "a"}, {"provider": "baidu-qianfan"}]})
    assert "2 problem(s)" in message


def test_fault_parsing() -> None:
    assert parse_fault({"kind": "timeout"}).delay == 30.0
    assert parse_fault({"kind": "latency", "seconds": 0.2}).delay == 0.2
    with pytest.raises(ScenarioError, match="fault: 1 problem"):
        parse_fault({"kind": "latency", "seconds": -1})
