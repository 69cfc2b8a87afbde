"""Qianfan `DescribeComputeUnit` response, as documented; every field optional, numbers bounded."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from cloudmodel_operator.providers.fields import Amount, Count, Instant


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class AutoRenew(_Body):
    renewTime: Count | None = None
    renewTimeUnit: str | None = None


class ComputeUnitInstance(_Body):
    instanceId: str | None = None
    region: str | None = None
    status: str | None = None
    type: str | None = None
    totalComputeUnits: Amount | None = None
    usedComputeUnits: Amount | None = None
    paymentTiming: str | None = None
    startTime: Instant | None = None
    expiredTime: Instant | None = None
    releaseTime: Instant | None = None
    reservationLength: Count | None = None
    reservationTimeUnit: str | None = None
    autoRenew: AutoRenew | bool | None = None
    # `creator` is personal data and deliberately not a field.


class ServiceUsage(_Body):
    serviceId: str | None = None
    serviceName: str | None = None
    runStatus: str | None = None
    scaleStatus: str | None = None
    deployedComputingUnits: Amount | None = None


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
