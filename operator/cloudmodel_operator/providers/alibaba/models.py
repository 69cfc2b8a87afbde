"""Alibaba Cloud response bodies, as documented; every field optional so odd answers never crash."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


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
    serviceCount: int | None = None
    cpu: float | None = None
    gpu: float | None = None
    memory: float | None = None
    gpuMemory: float | None = None
    modelParams: str | dict[str, Any] | None = None
    instanceRegion: str | None = None
    serviceDeployRegion: str | None = None
    supportApiKeyAccess: bool | None = None


class InstanceModel(_Body):
    """Hologres `GetInstanceModel`."""

    requestId: str | None = None
    status: str | None = None
    cpu: float | None = None
    cpuUsed: float | None = None
    gpu: float | None = None
    gpuUsed: float | None = None
    memory: float | None = None
    memoryUsed: float | None = None
    gpuMemory: float | None = None
    gpuMemoryUsed: float | None = None
    nodeCount: int | None = None
    resourceType: str | None = None
    aiInstanceId: str | None = None
    regionId: str | None = None
    commodityCode: str | None = None
    chargeType: str | None = None
    expirationTime: str | None = None
    autoRenewal: bool | None = None
    modelServiceList: list[ModelService] | None = None


class HarmfulCategory(_Body):
    CategoryId: int | None = None
    CategoryLabel: str | None = None
    InputOutputType: int | None = None
    CategoryType: int | None = None
    SecurityLevel: int | None = None


class PromptAttack(_Body):
    CategoryId: int | None = None
    CategoryLabel: str | None = None
    SecurityLevel: int | None = None


class ModelInstanceInfo(_Body):
    """AI guardrails `GetModelInstanceInfo` (its `ModelToken` is deliberately not a field)."""

    RequestId: str | None = None
    Code: str | None = None
    Success: bool | None = None
    HttpStatusCode: int | None = None
    Message: str | None = None
    ModelInstanceId: int | str | None = None
    EasServiceName: str | None = None
    EasServiceId: str | None = None
    ModelSource: int | None = None
    IsSupportText: bool | None = None
    IsSupportImage: bool | None = None
    ModelUrl: str | None = None
    ModelVpcUrl: str | None = None
    ModelCallName: str | None = None
    Description: str | None = None
    ModelCategoryId: int | None = None
    GmtModified: int | None = None
    HarmfulCategoryConfigInfoList: list[HarmfulCategory] | None = None
    PromptAttackInfoList: list[PromptAttack] | None = None
