"""Hologres `GetInstanceModel` (seed 000): the example response, with a fake `apiKey`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cloudmodel_dev.simulator.bodies import billing, seeds

API_KEY = "sk-sandbox-SECRET-hologres-apikey-0001"
STATES = ("ResourceReady", "InstanceWaiting")
DEFAULT_STATE = "ResourceReady"
# The seed's example expired long ago (2026-01-28T07:44:27.535Z): a 90-day subscription instead.
EXPIRATION_TIME = billing.at(timedelta(days=90), millis=True)


def default_body(instance_id: str, state: str) -> dict[str, Any]:
    if seeds.is_example("alibaba-hologres", instance_id):
        example = seeds.example_body("alibaba-hologres")
        if state != seeds.EXAMPLE_STATES["alibaba-hologres"]:
            set_state(example, state)
        return example
    return {
        "cpu": 32,
        "gpu": 4,
        "memory": 128,
        "gpuMemory": 128,
        "modelServiceList": [
            {
                "gpuMemory": 32,
                "memory": 32,
                "cpu": 32,
                "modelType": "qwen3.5-plus",
                "gpu": 2,
                "status": "Running",
                "modelName": "my_model",
                "serviceCount": 2,
                "version": "v1.1",
                "message": "",
                "taskType": "embedding",
                "modelParams": '{"timeout":600,"max_retries":10,"max_retry_delay":8,"initial_retry_delay":0.5}',
                "apiKey": API_KEY,
                "provider": "bailian",
                "instanceRegion": "cn-beijing",
                "serviceDeployRegion": "cn-beijing",
            }
        ],
        "cpuUsed": 32,
        "memoryUsed": 64,
        "gpuUsed": 2,
        "aiInstanceId": f"hologram_aicombo_public_{instance_id}",
        "gpuMemoryUsed": 64,
        "regionId": "cn-shanghai",
        "resourceType": "middle",
        "nodeCount": 2,
        "commodityCode": "hologram_aipostpay_public_cn",
        "chargeType": "PrePaid",
        "status": state,
        "expirationTime": EXPIRATION_TIME,
        "autoRenewal": True,
    }


UNKNOWN_STATE: Any = "SandboxUnknownState"


def set_state(body: dict[str, Any], state: Any) -> None:
    body["status"] = state
