"""The seed documents' own example responses, verbatim, through each provider's whole `observe` path.

The bodies are cut out of the seed documents in tests/seeds (not retyped), sent over an in-process
transport as the provider would send them, and parsed, validated, mapped and scrubbed by the
operator's own code. Each expected value is written next to the reason it is right.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from cloudmodel_dev.simulator.bodies import seeds
from cloudmodel_operator.api.observation import Observation, Phase
from cloudmodel_operator.providers import get_provider
from cloudmodel_operator.providers.base import Credentials, Target
from tests.seeds.examples import EXAMPLES, example_bytes

ALIBABA = Credentials({"accessKeyId": "LTAIunit", "accessKeySecret": "alibaba-unit-secret"})
HUAWEI = Credentials({"accessKey": "HWUNITAK", "secretKey": "huawei-unit-secret"})
BAIDU = Credentials({"accessKey": "bce-unit-ak", "secretKey": "baidu-unit-secret"})
PROJECT = "0c9d4a5e2b1f4c6d8e7f0a1b2c3d4e5f"

TARGETS = {
    "alibaba-hologres": (
        Target("alibaba-hologres", "cn-hangzhou", instance_id="hgpostcn-cn-7mz2vmuxxxx"),
        ALIBABA,
    ),
    "alibaba-guardrail": (
        Target("alibaba-guardrail", "cn-shanghai", model_instance_id="123", scene_type=2),
        ALIBABA,
    ),
    "huawei-modelarts": (
        Target(
            "huawei-modelarts", "cn-north-4", project_id=PROJECT, service_id=seeds.MODELARTS_EXAMPLE_SERVICE
        ),
        HUAWEI,
    ),
    "baidu-qianfan": (Target("baidu-qianfan", "bj", instance_id="unit-xxx"), BAIDU),
}


async def observe_verbatim(provider: str) -> Observation:
    body = example_bytes(provider)

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"Content-Type": "application/json"})

    target, credentials = TARGETS[provider]
    implementation = get_provider(provider)
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        return await implementation.observe(
            client, implementation.default_base_url(target.region), target, credentials
        )


def dump(observation: Observation) -> dict[str, Any]:
    return observation.model_dump(mode="json", exclude_none=True)


@pytest.mark.parametrize("provider", sorted(EXAMPLES))
def test_the_simulator_serves_the_seed_example_byte_for_byte(provider: str) -> None:
    assert seeds.example_bytes(provider) == example_bytes(provider)


async def test_hologres_seed_example() -> None:
    observation = await observe_verbatim("alibaba-hologres")
    # Node ResourceReady, its one service Running: Ready. The service's message "Failed" is free
    # text; the documented states decide, the message is shown on the service.
    assert observation.phase is Phase.READY
    assert observation.providerState == "ResourceReady"
    [service] = observation.services
    assert (service.state, service.phase, service.message) == ("Running", Phase.READY, "Failed")
    assert observation.message is None  # nothing is not ready
    # serviceCount 2, Running: 2 of 2 replicas ready.
    assert observation.replicas.model_dump() == {"desired": 2, "ready": 2}
    # Node totals and used: cpu 32/32 cores, gpu 4/2 cards, memory 128/64 GiB, gpuMemory 128/64 GB.
    assert dump(observation)["resources"] == {
        "cpu": {"total": "32", "used": "32"},
        "gpu": {"total": "4", "used": "2"},
        "memory": {"total": "128Gi", "used": "64Gi"},
        "gpuMemory": {"total": "128Gi", "used": "64Gi"},
    }
    # "Occupied by this model service": the service's total; no per-replica figure is derived.
    assert dump(observation)["services"][0]["resources"] == {
        "total": {"cpu": "32", "memory": "32Gi", "gpu": "2", "gpuMemory": "32Gi"}
    }
    assert dump(observation)["billing"] == {
        "chargeType": "PrePaid",
        "expirationTime": "2026-01-28T07:44:27Z",
        "autoRenew": True,
    }
    assert observation.requestId == "819A7F0F-2951-540F-BD94-6A41ECF0281F"
    assert "sk-42f6c8xxxxxb" not in observation.model_dump_json()  # apiKey is never a field


async def test_modelarts_seed_example() -> None:
    observation = await observe_verbatim("huawei-modelarts")
    # The service is `running` but its only model config is `notReady` with 1 instance: nothing
    # serves yet, so not Ready: Progressing (the config's instances are starting), 0 of 1 ready.
    assert observation.phase is Phase.PROGRESSING
    assert observation.providerState == "running"
    assert observation.replicas.model_dump() == {"desired": 1, "ready": 0}
    assert observation.message == "jar-model: notReady (0/1 instances ready)"
    [service] = observation.services
    assert (service.state, service.phase, service.replicas, service.readyReplicas) == (
        "notReady",
        Phase.PROGRESSING,
        1,
        0,
    )
    # `custom_spec: {}` says nothing and there are no `specification_details`: no resources.
    assert service.resources is None
    assert [(e.type, e.url) for e in observation.endpoints] == [
        (
            "access",
            "https://xxxxx.apigw.xxxxx.com/v1/infers/088458d9-5755-4110-97d8-1d21065ea10b/"
            "f76f20ba-78f5-44e8-893a-37c8c600c02f",
        )
    ]
    # invocation_times / failed_times are traffic counters: metrics, never the status.
    assert observation.counters == {"invocations": 0.0, "failedInvocations": 0.0}
    assert "counters" not in dump(observation)
    assert not {"invocationTimes", "failedTimes"} & set(observation.attributes)
    assert observation.autoStopTime is None  # no due_time in the example
    assert "xxxxx" not in json.dumps(observation.attributes)  # tenant/project/owner are dropped


async def test_qianfan_seed_example() -> None:
    observation = await observe_verbatim("baidu-qianfan")
    # Unit Running, its one service Serving: Ready.
    assert observation.phase is Phase.READY
    assert observation.providerState == "Running"
    # Qianfan documents no replica count per service: replicas stay unset, not a service count.
    assert observation.replicas.model_dump() == {"desired": None, "ready": None}
    [service] = observation.services
    assert (service.replicas, service.readyReplicas) == (None, None)
    # deployedComputingUnits = per-replica units x replicas (seed): a total.
    assert dump(observation)["services"][0]["resources"] == {"total": {"computeUnits": "1"}}
    assert dump(observation)["resources"] == {"computeUnits": {"total": "4", "used": "2"}}
    assert dump(observation)["billing"] == {
        "chargeType": "Prepaid",
        "startTime": "2024-12-03T06:24:03Z",
        "expirationTime": "2025-01-03T06:24:03Z",
        "autoRenew": True,
        "autoRenewPeriod": "4 month",
    }
    assert observation.requestId == "1bef3f87-c5b2-4419-936b-50f9884f10d4"
    assert '"xxx"' not in observation.model_dump_json()  # creator is personal data: dropped


async def test_guardrail_seed_example() -> None:
    observation = await observe_verbatim("alibaba-guardrail")
    # No lifecycle state is documented: providerState stays unset (Code "00000" only says the
    # call worked). The instance has URLs where it serves: Ready.
    assert observation.phase is Phase.READY
    assert observation.providerState is None
    assert observation.services[0].state is None
    assert {e.type for e in observation.endpoints} == {"public", "vpc"}
    # CategoryType 0 = text, SecurityLevel 1 = medium, InputOutputType 0 = input.
    assert observation.attributes["harmfulCategories"] == "伦理道德(text, level medium, input)"
    assert observation.attributes["promptAttacks"] == "角色扮演(level medium)"
    assert observation.attributes["modelSource"] == "PAI"  # ModelSource 1
    assert "MzJiMDI5MDliODc0MTlkYmI0ZDhlYmExYjczYTIyZTE3Zm" not in observation.model_dump_json()
