"""Qianfan `DescribeComputeUnit` response, as documented; every field optional."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class AutoRenew(_Body):
    renewTime: int | None = None
    renewTimeUnit: str | None = None


class ComputeUnitInstance(_Body):
    instanceId: str | None = None
    region: str | None = None
    status: str | None = None
    type: str | None = None
    totalComputeUnits: float | None = None
    usedComputeUnits: float | None = None
    paymentTiming: str | None = None
    startTime: str | None = None
    expiredTime: str | None = None
    releaseTime: str | None = None
    reservationLength: int | None = None
    reservationTimeUnit: str | None = None
    autoRenew: AutoRenew | bool | None = None
    # `creator` is personal data and deliberately not a field.


class ServiceUsage(_Body):
    serviceId: str | None = None
    serviceName: str | None = None
    runStatus: str | None = None
    scaleStatus: str | None = None
    deployedComputingUnits: float | None = None


class Result(_Body):
    computeUnitInstance: ComputeUnitInstance | None = None
    # The field table says serviceUsageList, the example serviceInfoList: accept both.
    serviceUsageList: list[ServiceUsage] | None = None
    serviceInfoList: list[ServiceUsage] | None = None

    @property
    def services(self) -> list[ServiceUsage]:
        return [*(self.serviceUsageList or []), *(self.serviceInfoList or [])]


class DescribeComputeUnitResponse(_Body):
    requestId: str | None = None
    result: Result = Field(default_factory=Result)
