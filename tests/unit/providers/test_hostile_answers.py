"""Hostile answers from a real loopback server (the simulator), through each provider's `observe`.

Whatever arrives, a call ends in an `Observation` or a classified `ProviderError`: slow drips
and disconnects are transient (ProviderUnreachable), oversized, bomb, deeply nested and
impossible bodies are invalid responses, and nothing the request carried comes back in the data.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from cloudmodel_dev.simulator.scenario import load_scenario
from cloudmodel_dev.simulator.server import SimulatorHandle, run_in_thread
from cloudmodel_operator.api.observation import Observation
from cloudmodel_operator.providers import get_provider, http
from cloudmodel_operator.providers.base import Credentials, ErrorClass, ProviderError, Target

PROJECT = "0c9d4a5e2b1f4c6d8e7f0a1b2c3d4e5f"


@dataclass(frozen=True)
class Case:
    provider: str
    target_id: str
    target: Target
    credentials: Credentials


CASES = {
    "alibaba-hologres": Case(
        "alibaba-hologres",
        "hgpostcn-cn-sandbox-ready",
        Target("alibaba-hologres", "cn-hangzhou", instance_id="hgpostcn-cn-sandbox-ready"),
        Credentials({"accessKeyId": "LTAIsandbox", "accessKeySecret": "sandbox-alibaba-secret"}),
    ),
    "alibaba-guardrail": Case(
        "alibaba-guardrail",
        "1001/scene-2",
        Target("alibaba-guardrail", "cn-shanghai", model_instance_id="1001", scene_type=2),
        Credentials({"accessKeyId": "LTAIsandbox", "accessKeySecret": "sandbox-alibaba-secret"}),
    ),
    "huawei-modelarts": Case(
        "huawei-modelarts",
        f"{PROJECT}/6f1c2b9e-3d4a-4b8c-9e7f-1a2b3c4d5e6f",
        Target(
            "huawei-modelarts",
            "cn-north-4",
            project_id=PROJECT,
            service_id="6f1c2b9e-3d4a-4b8c-9e7f-1a2b3c4d5e6f",
        ),
        Credentials({"accessKey": "HWSANDBOXAK", "secretKey": "sandbox-huawei-secret"}),
    ),
    "huawei-modelarts-iam": Case(
        "huawei-modelarts",
        f"{PROJECT}/6f1c2b9e-3d4a-4b8c-9e7f-1a2b3c4d5e6f",
        Target(
            "huawei-modelarts",
            "cn-north-4",
            project_id=PROJECT,
            service_id="6f1c2b9e-3d4a-4b8c-9e7f-1a2b3c4d5e6f",
        ),
        Credentials({"domainName": "sandbox", "username": "operator", "password": "sandbox-password"}),
    ),
    "baidu-qianfan": Case(
        "baidu-qianfan",
        "unit-sandbox-running",
        Target("baidu-qianfan", "bj", instance_id="unit-sandbox-running"),
        Credentials({"accessKey": "bce-sandbox-ak", "secretKey": "sandbox-baidu-secret"}),
    ),
}
PROVIDERS = ["alibaba-hologres", "alibaba-guardrail", "huawei-modelarts", "baidu-qianfan"]


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorHandle]:
    with run_in_thread(load_scenario(None)) as handle:
        yield handle


@pytest.fixture(autouse=True)
def no_faults_left(simulator: SimulatorHandle) -> Iterator[None]:
    yield
    simulator.clear_faults()


async def observe(simulator: SimulatorHandle, case: Case) -> Observation:
    provider = type(get_provider(case.provider))()  # a fresh IAM token cache per call
    async with http.make_client() as client:
        return await provider.observe(client, simulator.url, case.target, case.credentials)


async def failure(simulator: SimulatorHandle, case: Case) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        await observe(simulator, case)
    return info.value


def with_fault(simulator: SimulatorHandle, case: Case, fault: dict[str, Any]) -> Case:
    simulator.add_fault(case.provider, case.target_id, fault)
    return case


@pytest.mark.parametrize("name", PROVIDERS)
async def test_a_slow_drip_ends_at_the_request_deadline(
    simulator: SimulatorHandle, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One byte every 0.2 s never trips the 15 s per-read timeout; the whole-request deadline does.
    monkeypatch.setattr(http, "REQUEST_DEADLINE", 1.0)
    error = await failure(simulator, with_fault(simulator, CASES[name], {"kind": "drip", "seconds": 0.2}))
    assert error.error_class is ErrorClass.TRANSIENT
    assert "no complete answer" in error.message


async def test_cancelling_observe_closes_the_connection(simulator: SimulatorHandle) -> None:
    case = with_fault(simulator, CASES["baidu-qianfan"], {"kind": "drip", "seconds": 0.2})
    provider = get_provider(case.provider)
    async with http.make_client() as client:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.5):  # the engine's overall deadline around observe
                await provider.observe(client, simulator.url, case.target, case.credentials)
        pool = client._transport._pool  # type: ignore[attr-defined]
        assert pool.connections == []  # closed, not left half-read in the pool
        # and the client still works afterwards
        observation = await provider.observe(client, simulator.url, case.target, case.credentials)
    assert observation.phase.value == "Ready"


@pytest.mark.parametrize("kind", ["truncated", "disconnect"])
@pytest.mark.parametrize("name", PROVIDERS)
async def test_a_disconnect_is_transient(simulator: SimulatorHandle, name: str, kind: str) -> None:
    error = await failure(simulator, with_fault(simulator, CASES[name], {"kind": kind}))
    assert error.error_class is ErrorClass.TRANSIENT, error
    assert error.retryable


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        ({"kind": "huge-body"}, "announced a body of 52428800 bytes"),
        ({"kind": "endless"}, f"sent more than {http.MAX_BODY_BYTES} bytes"),
        ({"kind": "gzip-bomb"}, f"decompressed body larger than {http.MAX_BODY_BYTES} bytes"),
        ({"kind": "deep-nesting", "depth": 200_000}, "JSON objects and arrays"),
        ({"kind": "deep-nesting", "depth": 100}, "nested deeper than 64 levels"),
        ({"kind": "bad-json"}, "not valid JSON"),
        ({"kind": "bad-numbers", "numbers": "nan"}, "not valid JSON"),
        ({"kind": "bad-numbers", "numbers": "infinity"}, "not valid JSON"),
    ],
)
@pytest.mark.parametrize("name", PROVIDERS)
async def test_oversized_and_malformed_bodies_are_invalid_responses(
    simulator: SimulatorHandle, name: str, fault: dict[str, Any], says: str
) -> None:
    error = await failure(simulator, with_fault(simulator, CASES[name], fault))
    assert error.error_class is ErrorClass.INVALID_RESPONSE, error
    assert says in error.message


# The first number-bearing field each body's model checks, named in the error.
FIRST_NUMBER = {
    "alibaba-hologres": "GetInstanceModel body at",
    "alibaba-guardrail": "GetModelInstanceInfo body at",
    "huawei-modelarts": "service details body at",
    "baidu-qianfan": "DescribeComputeUnit body at",
}


@pytest.mark.parametrize("numbers", ["negative", "huge"])
@pytest.mark.parametrize("name", PROVIDERS)
async def test_impossible_numbers_are_invalid_responses_naming_the_field(
    simulator: SimulatorHandle, name: str, numbers: str
) -> None:
    error = await failure(
        simulator, with_fault(simulator, CASES[name], {"kind": "bad-numbers", "numbers": numbers})
    )
    assert error.error_class is ErrorClass.INVALID_RESPONSE, error
    assert FIRST_NUMBER[name] in error.message  # "... body at <field>: <what is wrong>"
    field = error.message.split(" body at ", 1)[1].split(":", 1)[0]
    assert field, error.message
    assert " " not in field, error.message


@pytest.mark.parametrize("name", [*PROVIDERS, "huawei-modelarts-iam"])
async def test_credentials_echoed_in_every_text_field_never_come_back(
    simulator: SimulatorHandle, name: str
) -> None:
    case = CASES[name]
    simulator.add_fault(case.provider, case.target_id, {"kind": "echo-credentials"})
    try:
        text = (await observe(simulator, case)).model_dump_json()
    except ProviderError as error:  # guardrail: an echoed `Code` is no longer "00000", an error
        text = str(error)
    assert "(echo)" in text  # the echo did arrive
    for value in case.credentials.values.values():
        if value not in ("sandbox", "operator"):  # IAM domain and user names: plain words
            assert value not in text, (value, text)
    assert "Signature=" not in text.replace("Signature=***", "")
