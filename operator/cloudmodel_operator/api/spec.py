"""The `CloudModelService` spec as the operator reads it.

The CRD's OpenAPI schema and CEL rules refuse bad objects at admission; this model is the
operator's own typed view of an admitted spec (defaults applied the same way as the CRD).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

from cloudmodel_operator.providers.base import Target

ProviderName = Literal["alibaba-hologres", "huawei-modelarts", "baidu-qianfan", "alibaba-guardrail"]

GROUP = "cloudmodel.io"
VERSION = "v1alpha1"
KIND = "CloudModelService"
PLURAL = "cloudmodelservices"

DEFAULT_POLL_INTERVAL = timedelta(seconds=60)
MIN_POLL_INTERVAL = timedelta(seconds=10)

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> timedelta:
    """Parse a Go/Kubernetes-style duration such as `90s`, `5m`, `1h30m`."""
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        raise ValueError(f"invalid duration {text!r}; use e.g. 30s, 5m or 1h30m")
    return timedelta(seconds=sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts))


class SecretReference(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str


class CloudModelServiceSpec(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    provider: ProviderName
    region: str
    instanceId: str | None = None
    projectId: str | None = None
    serviceId: str | None = None
    modelInstanceId: int | None = None
    sceneType: int | None = None
    endpoint: str | None = None
    credentialsSecretRef: SecretReference
    pollInterval: str = "60s"
    suspend: bool = False

    @property
    def poll_interval(self) -> timedelta:
        """The poll interval, never below the floor even if the CRD's rule was bypassed."""
        try:
            interval = parse_duration(self.pollInterval)
        except ValueError:
            return DEFAULT_POLL_INTERVAL
        return max(interval, MIN_POLL_INTERVAL)

    def target(self) -> Target:
        return Target(
            provider=self.provider,
            region=self.region,
            instance_id=self.instanceId,
            project_id=self.projectId,
            service_id=self.serviceId,
            model_instance_id=str(self.modelInstanceId) if self.modelInstanceId is not None else None,
            scene_type=self.sceneType,
            endpoint=self.endpoint,
        )
