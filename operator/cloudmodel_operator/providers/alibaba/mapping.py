"""Alibaba responses -> the normalized observation. Pure functions; the phase tables live here.

Units: Hologres reports cpu in cores, memory in GiB and gpuMemory in "GB" as GPU vendors count
it (binary: a 24 GB card has 24 GiB); both become `Gi` quantities.
"""

from __future__ import annotations

import json
from typing import Any

from cloudmodel_operator.api.observation import (
    Billing,
    Endpoint,
    Observation,
    Phase,
    Replicas,
    Resources,
    ServiceResources,
    ServiceStatus,
    Usage,
)
from cloudmodel_operator.providers.alibaba.models import InstanceModel, ModelInstanceInfo, ModelService
from cloudmodel_operator.providers.units import epoch_ms_to_iso, present, quantity

# Hologres AI node status (seed 000 documents these two).
NODE_PHASES: dict[str, Phase] = {
    "ResourceReady": Phase.READY,
    "InstanceWaiting": Phase.PROGRESSING,
}
# Model service status: the seed documents `Running`; the others follow Alibaba's usual verbs.
SERVICE_PHASES: dict[str, Phase] = {
    "Running": Phase.READY,
    "Creating": Phase.PROGRESSING,
    "Deploying": Phase.PROGRESSING,
    "Pending": Phase.PROGRESSING,
    "Starting": Phase.PROGRESSING,
    "Updating": Phase.PROGRESSING,
    "Scaling": Phase.PROGRESSING,
    "Stopping": Phase.PROGRESSING,
    "Deleting": Phase.PROGRESSING,
    "Stopped": Phase.STOPPED,
    "Failed": Phase.FAILED,
    "CreateFailed": Phase.FAILED,
    "DeployFailed": Phase.FAILED,
    "Error": Phase.FAILED,
}
# modelParams keys copied to the status; anything else in that free-form JSON is dropped.
MODEL_PARAM_KEYS = ("timeout", "max_retries", "max_retry_delay", "initial_retry_delay", "max_tokens")
GUARDRAIL_OK = "00000"
MODEL_SOURCES = {1: "PAI", 2: "other"}
INPUT_OUTPUT = {0: "input", 1: "output", 2: "both"}


def usage(total: float | None, used: float | None, suffix: str = "") -> Usage | None:
    if total is None and used is None:
        return None
    return Usage(total=quantity(total, suffix), used=quantity(used, suffix))


def service_phase(service: ModelService) -> Phase:
    phase = SERVICE_PHASES.get(service.status or "", Phase.UNKNOWN)
    if phase is Phase.READY and service.message:
        return Phase.DEGRADED  # running, but the provider has something to say about it
    return phase


def combine(node: Phase, services: list[Phase]) -> Phase:
    """The resource's phase: the node's, unless it is ready; then the services' worst."""
    if node is not Phase.READY or not services:
        return node
    if all(p is Phase.FAILED for p in services):
        return Phase.FAILED
    if all(p is Phase.STOPPED for p in services):
        return Phase.STOPPED
    if any(p in (Phase.FAILED, Phase.DEGRADED, Phase.STOPPED) for p in services):
        return Phase.DEGRADED
    for phase in (Phase.PROGRESSING, Phase.UNKNOWN):
        if phase in services:
            return phase
    return Phase.READY


def model_params(raw: str | dict[str, Any] | None) -> dict[str, str]:
    if raw is None:
        return {}
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return {}
    if not isinstance(parsed, dict):
        return {}
    return {f"modelParams.{k}": str(parsed[k]) for k in MODEL_PARAM_KEYS if k in parsed}


def _service(service: ModelService) -> ServiceStatus:
    attributes = present(
        {
            "provider": service.provider,
            "instanceRegion": service.instanceRegion,
            "serviceDeployRegion": service.serviceDeployRegion,
            "supportApiKeyAccess": service.supportApiKeyAccess,
        }
    )
    attributes.update(model_params(service.modelParams))
    phase = service_phase(service)
    return ServiceStatus(
        name=service.modelName or "(unnamed)",
        model=service.modelType,
        version=service.version,
        taskType=service.taskType,
        state=service.status,
        phase=phase,
        replicas=service.serviceCount,
        readyReplicas=service.serviceCount if phase in (Phase.READY, Phase.DEGRADED) else 0,
        resources=ServiceResources(
            cpu=quantity(service.cpu),
            memory=quantity(service.memory, "Gi"),
            gpu=quantity(service.gpu),
            gpuMemory=quantity(service.gpuMemory, "Gi"),
        ),
        message=service.message or None,
        attributes=attributes,
    )


def map_instance_model(body: InstanceModel) -> Observation:
    services = [_service(s) for s in body.modelServiceList or []]
    node = NODE_PHASES.get(body.status or "", Phase.UNKNOWN)
    phase = combine(node, [s.phase for s in services])
    troubled = [f"{s.name}: {s.message or s.state}" for s in services if s.phase not in (Phase.READY,)]
    message = "; ".join(troubled) or None
    if node is Phase.PROGRESSING and not message:
        message = "the AI node is being prepared"
    desired = sum(s.replicas or 0 for s in services)
    ready = sum(s.readyReplicas or 0 for s in services)
    attributes = present(
        {
            "aiInstanceId": body.aiInstanceId,
            "nodeCount": body.nodeCount,
            "resourceType": body.resourceType,
            "regionId": body.regionId,
            "commodityCode": body.commodityCode,
        }
    )
    return Observation(
        phase=phase,
        providerState=body.status,
        message=message,
        resources=Resources(
            cpu=usage(body.cpu, body.cpuUsed),
            memory=usage(body.memory, body.memoryUsed, "Gi"),
            gpu=usage(body.gpu, body.gpuUsed),
            gpuMemory=usage(body.gpuMemory, body.gpuMemoryUsed, "Gi"),
        ),
        replicas=Replicas(desired=desired, ready=ready) if services else Replicas(desired=0, ready=0),
        services=services,
        billing=Billing(
            chargeType=body.chargeType,
            expirationTime=body.expirationTime,  # pydantic parses ISO 8601
            autoRenew=body.autoRenewal,
        ),
        requestId=body.requestId,
        attributes=attributes,
    )


def _summary(items: list[Any], describe: Any) -> str | None:
    return ", ".join(describe(item) for item in items)[:512] or None if items else None


def map_model_instance(body: ModelInstanceInfo) -> Observation:
    endpoints = [
        Endpoint(type=kind, url=url)
        for kind, url in (("public", body.ModelUrl), ("vpc", body.ModelVpcUrl))
        if url
    ]
    phase = Phase.READY if endpoints else Phase.UNKNOWN
    source = (
        MODEL_SOURCES.get(body.ModelSource or 0, str(body.ModelSource))
        if body.ModelSource is not None
        else None
    )
    categories = body.HarmfulCategoryConfigInfoList or []
    attacks = body.PromptAttackInfoList or []
    attributes = present(
        {
            "modelInstanceId": body.ModelInstanceId,
            "modelSource": source,
            "supportsText": body.IsSupportText,
            "supportsImage": body.IsSupportImage,
            "modelCategoryId": body.ModelCategoryId,
            "description": body.Description,
            "harmfulCategories": _summary(
                categories,
                lambda c: (
                    f"{c.CategoryLabel or c.CategoryId}(level {c.SecurityLevel}"
                    + (
                        f", {INPUT_OUTPUT.get(c.InputOutputType, c.InputOutputType)})"
                        if c.InputOutputType is not None
                        else ")"
                    )
                ),
            ),
            "promptAttacks": _summary(
                attacks, lambda a: f"{a.CategoryLabel or a.CategoryId}(level {a.SecurityLevel})"
            ),
            "modifiedAt": epoch_ms_to_iso(body.GmtModified),
        }
    )
    service = ServiceStatus(
        name=body.EasServiceName or f"model-instance-{body.ModelInstanceId}",
        id=body.EasServiceId,
        model=body.ModelCallName,
        state=body.Code,
        phase=phase,
    )
    return Observation(
        phase=phase,
        providerState=body.Code,
        message=None if endpoints else "the model instance has no URL yet",
        services=[service],
        endpoints=endpoints,
        requestId=body.RequestId,
        attributes=attributes,
    )
