"""The status documents the benchmark writes itself (the raw limit, and the "stale" passes).

They have the size and shape of what the operator writes (a Ready resource with resources,
one service, endpoints, billing and four conditions) but an old `lastSyncTime` and a marker
message, so that (1) the limit measures the API server on realistic writes, and (2) an operator
started afterwards finds every resource out of date and must fetch and write each one, as after a
long outage. Writes by the benchmark are told apart from the operator's by the marker.
"""

from __future__ import annotations

import uuid
from typing import Any

from cloudmodel_dev.bench.fleet import Member, display_target

MARKER = "written by the benchmark; the operator has not seen this resource yet"
STALE_TIME = "2001-01-01T00:00:00Z"


def _condition(type_: str, status: str, reason: str, message: str = "") -> dict[str, Any]:
    return {
        "type": type_,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": STALE_TIME,
        "observedGeneration": 1,
    }


def stale_status(m: Member) -> dict[str, Any]:
    return {
        "observedGeneration": 1,
        "phase": "Ready",
        "providerState": "Running",
        "message": MARKER,
        "target": display_target(m),
        "summary": {"replicas": "2/2", "gpu": "2/4"},
        "resources": {
            "cpu": {"total": "32", "used": "32"},
            "memory": {"total": "128Gi", "used": "64Gi"},
            "gpu": {"total": "4", "used": "2"},
            "gpuMemory": {"total": "128Gi", "used": "64Gi"},
        },
        "replicas": {"desired": 2, "ready": 2},
        "services": [
            {
                "name": "my_model",
                "model": "qwen3.5-plus",
                "version": "v1.1",
                "taskType": "embedding",
                "state": "Running",
                "phase": "Ready",
                "replicas": 2,
                "resources": {"total": {"cpu": "32", "memory": "32Gi", "gpu": "2", "gpuMemory": "32Gi"}},
                "attributes": {"provider": "bailian", "serviceDeployRegion": "cn-beijing"},
            }
        ],
        "endpoints": [
            {"type": "public", "url": f"https://{m.name}.example.invalid/api/predict/my_model"},
            {"type": "vpc", "url": f"https://{m.name}.vpc.example.invalid/api/predict/my_model"},
        ],
        "billing": {"chargeType": "PrePaid", "expirationTime": "2026-01-28T07:44:27Z", "autoRenew": True},
        "requestId": str(uuid.uuid4()),
        "attributes": {"regionId": "cn-shanghai", "resourceType": "middle", "nodeCount": "2"},
        "lastSyncTime": STALE_TIME,
        "conditions": [
            _condition("Ready", "True", "Available"),
            _condition("Synced", "True", "ObservationSucceeded"),
            _condition("Reconciling", "False", "Stable"),
            _condition("Stalled", "False", "Stable"),
        ],
    }
