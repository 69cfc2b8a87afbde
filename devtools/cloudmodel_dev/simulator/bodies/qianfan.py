"""Qianfan `DescribeComputeUnit` (seed 003): the example response.

The seed's field table calls the service list `serviceUsageList` while its example says
`serviceInfoList`; the simulator serves the example's name (a response override can switch it).
"""

from __future__ import annotations

from typing import Any

from cloudmodel_dev.simulator.bodies import seeds

STATES = (
    "Creating",
    "CreateFailed",
    "Running",
    "Releasing",
    "Released",
    "Reconfiguring",
    "ReconfigureFailed",
)
DEFAULT_STATE = "Running"


def default_body(instance_id: str, state: str) -> dict[str, Any]:
    if seeds.is_example("baidu-qianfan", instance_id):
        example = seeds.example_body("baidu-qianfan")
        if state != seeds.EXAMPLE_STATES["baidu-qianfan"]:
            set_state(example, state)
        return example
    return {
        "result": {
            "computeUnitInstance": {
                "instanceId": instance_id,
                "region": "bj",
                "status": state,
                "type": "gpu-1",
                "totalComputeUnits": 4,
                "usedComputeUnits": 2,
                "paymentTiming": "Prepaid",
                "startTime": "2024-12-03T06:24:03Z",
                "expiredTime": "2025-01-03T06:24:03Z",
                "reservationLength": 1,
                "reservationTimeUnit": "MONTH",
                "creator": "sandbox-user",
                "autoRenew": {"renewTime": 4, "renewTimeUnit": "month"},
            },
            "serviceInfoList": [
                {
                    "serviceName": "sandbox-chat",
                    "serviceId": "svco-sandbox01",
                    "runStatus": "Serving",
                    "deployedComputingUnits": 1,
                    "creator": "sandbox-user",
                }
            ],
        },
    }


UNKNOWN_STATE: Any = "SandboxUnknownState"


def set_state(body: dict[str, Any], state: Any) -> None:
    result = body.setdefault("result", {})
    if isinstance(result, dict):
        unit = result.setdefault("computeUnitInstance", {})
        if isinstance(unit, dict):
            unit["status"] = state
