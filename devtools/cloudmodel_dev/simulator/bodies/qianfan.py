"""Qianfan `DescribeComputeUnit` (seed 003): the example response.

The seed's field table calls the service list `serviceUsageList` while its example says
`serviceInfoList`; the simulator serves the example's name (a response override can switch it).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cloudmodel_dev.simulator.bodies import billing, seeds

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
# The seed's example (2024-12-03 to 2025-01-03) is long over: a one-month reservation, renewed
# yesterday, instead.
START_TIME = billing.at(timedelta(days=-1))
EXPIRED_TIME = billing.at(timedelta(days=30))


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
                "startTime": START_TIME,
                "expiredTime": EXPIRED_TIME,
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
