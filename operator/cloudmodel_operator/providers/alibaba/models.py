"""Alibaba Cloud response bodies, as documented; every field optional, every number bounded."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from cloudmodel_operator.providers.fields import Amount, Count, EpochMs, Instant, Level

Id = Annotated[int, Field(ge=0, le=2**63 - 1)]  # the seed's "long"


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class ModelService(_Body):
    """One entry of Hologres `modelServiceList` (its `apiKey` is deliberately not a field)."""

    modelName: str | None = None
    modelType: str | None = None
    taskType: str | None = None
    provider: str | None = None
    version: str | None = None
    status: str | None = None
    message: str | None = None
    serviceCount: Count | None = None
    cpu: Amount | None = None
    gpu: Amount | None = None
    memory: Amount | None = None
    gpuMemory: Amount | None = None
    modelParams: str | dict[str, Any] | None = None
    instanceRegion: str | None = None
    serviceDeployRegion: str | None = None
    supportApiKeyAccess: bool | None = None


class InstanceModel(_Body):
    """Hologres `GetInstanceModel`."""

    requestId: str | None = None
    status: str | None = None
    cpu: Amount | None = None
    cpuUsed: Amount | None = None
    gpu: Amount | None = None
    gpuUsed: Amount | None = None
    memory: Amount | None = None
    memoryUsed: Amount | None = None
    gpuMemory: Amount | None = None
    gpuMemoryUsed: Amount | None = None
    nodeCount: Count | None = None
    resourceType: str | None = None
    aiInstanceId: str | None = None
    regionId: str | None = None
    commodityCode: str | None = None
    chargeType: str | None = None
    expirationTime: Instant | None = None
    autoRenewal: bool | None = None
    modelServiceList: list[ModelService] | None = None


class HarmfulCategory(_Body):
    CategoryId: Id | None = None
    CategoryLabel: str | None = None
    InputOutputType: Level | None = None
    CategoryType: Level | None = None
    SecurityLevel: Level | None = None


class PromptAttack(_Body):
    CategoryId: Id | None = None
    CategoryLabel: str | None = None
    SecurityLevel: Level | None = None


class ModelInstanceInfo(_Body):
    """AI guardrails `GetModelInstanceInfo` (its `ModelToken` is deliberately not a field)."""

    RequestId: str | None = None
    Code: str | None = None
    Success: bool | None = None
    HttpStatusCode: Annotated[int, Field(ge=0, le=999)] | None = None
    Message: str | None = None
    ModelInstanceId: Id | str | None = None
    EasServiceName: str | None = None
    EasServiceId: str | None = None
    ModelSource: Level | None = None
    IsSupportText: bool | None = None
    IsSupportImage: bool | None = None
    ModelUrl: str | None = None
    ModelVpcUrl: str | None = None
    ModelCallName: str | None = None
    Description: str | None = None
    ModelCategoryId: Id | None = None
    GmtModified: EpochMs | None = None
    HarmfulCategoryConfigInfoList: list[HarmfulCategory] | None = None
    PromptAttackInfoList: list[PromptAttack] | None = None
