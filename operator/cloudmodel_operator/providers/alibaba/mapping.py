"""Alibaba responses -> the normalized observation. Pure functions; the state tables live here.

Phases follow the one rule in `providers.phases`. Units: the GetInstanceModel seed states none
for memory and gpuMemory; Hologres' ListInstanceModel reference documents the same fields as
memory "in GiB" and GPU memory "in GB" (GPU vendors' binary GB: a 24 GB card has 24 GiB), so both
become `Gi` quantities (docs/providers.md cites the page).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from cloudmodel_operator.api.observation import (
    Billing,
    Endpoint,
    Observation,
    Phase,
    ResourceAmounts,
    Resources,
    ServiceResources,
    ServiceStatus,
    Usage,
)
from cloudmodel_operator.providers.alibaba.models import (
    HarmfulCategory,
    InstanceModel,
    ModelInstanceInfo,
    ModelService,
    PromptAttack,
)
from cloudmodel_operator.providers.phases import combine, lookup
from cloudmodel_operator.providers.units import epoch_ms_to_iso, present, quantity, total_replicas

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
# Guardrail enums, each as its seed field documents it.
MODEL_SOURCES = {1: "PAI", 2: "other"}
INPUT_OUTPUT = {0: "input", 1: "output", 2: "both"}  # CategoryType's sibling; SceneType reuses 2 = both
CATEGORY_TYPES = {0: "text", 1: "image"}
SECURITY_LEVELS = {0: "low", 1: "medium", 2: "high"}
# Ready replicas per service phase: all when running, none while not; unknown state, unknown count.
READY_SHARE: dict[Phase, bool | None] = {
    Phase.READY: True,
    Phase.PROGRESSING: False,
    Phase.FAILED: False,
    Phase.STOPPED: False,
    Phase.UNKNOWN: None,
}

T = TypeVar("T")


def usage(total: float | None, used: float | None, suffix: str = "") -> Usage | None:
    if total is None and used is None:
        return None
    return Usage(total=quantity(total, suffix), used=quantity(used, suffix))


def model_params(raw: str | dict[str, Any] | None) -> dict[str, str]:
    if raw is None:
        return {}
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else raw
    except (ValueError, RecursionError):
        return {}
    if not isinstance(parsed, dict):
        return {}
    return {
        f"modelParams.{k}": str(parsed[k])
        for k in MODEL_PARAM_KEYS
        if isinstance(parsed.get(k), str | int | float) and not isinstance(parsed.get(k), bool)
    }


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
    phase = combine(lookup(SERVICE_PHASES, service.status))
    share = READY_SHARE.get(phase)
    ready = None if service.serviceCount is None or share is None else (service.serviceCount if share else 0)
    # "Occupied by this model service" (the seed's field text): the service's total, not per
    # replica. The seed's example numbers do not settle it (cpu and gpu add up as totals, memory
    # as per replica), so no per-replica figure is derived from them.
    amounts = ResourceAmounts(
        cpu=quantity(service.cpu),
        memory=quantity(service.memory, "Gi"),
        gpu=quantity(service.gpu),
        gpuMemory=quantity(service.gpuMemory, "Gi"),
    )
    return ServiceStatus(
        name=service.modelName or service.modelType or "(unnamed)",
        model=service.modelType,
        version=service.version,
        taskType=service.taskType,
        state=service.status,
        phase=phase,
        replicas=service.serviceCount,
        readyReplicas=ready,
        resources=ServiceResources(total=amounts) if amounts.model_dump(exclude_none=True) else None,
        message=service.message or None,
        attributes=attributes,
    )


def not_ready_summary(services: Sequence[ServiceStatus]) -> str | None:
    """`name: state (message)` for each service that is not ready; free text shown, not judged."""
    parts = [
        f"{s.name}: {s.state or 'no state'}" + (f" ({s.message})" if s.message else "")
        for s in services
        if s.phase is not Phase.READY
    ]
    return "; ".join(parts) or None


def map_instance_model(body: InstanceModel) -> Observation:
    services = [_service(s) for s in body.modelServiceList or []]
    node = lookup(NODE_PHASES, body.status)
    # A body without the AI-node fields (an instance with Bailian services only) has no node
    # state: its services decide (rule 4 of providers.phases).
    phase = combine(node, [s.phase for s in services])
    message = not_ready_summary(services)
    if node is Phase.PROGRESSING and not message:
        message = "the AI node is being prepared"
    attributes = present(
        {
            "aiInstanceId": body.aiInstanceId,
            "nodeCount": body.nodeCount,
            "resourceType": body.resourceType,
            "regionId": body.regionId,
            "commodityCode": body.commodityCode,
        }
    )
    billing = Billing(
        chargeType=body.chargeType, expirationTime=body.expirationTime, autoRenew=body.autoRenewal
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
        replicas=total_replicas(services),
        services=services,
        billing=billing if billing.model_dump(exclude_none=True) else None,
        requestId=body.requestId,
        attributes=attributes,
    )


def _word(table: dict[int, str], value: int | None) -> str | None:
    """A documented enum number as its word; an undocumented one stays a number."""
    return None if value is None else table.get(value, str(value))


def _summary(items: Sequence[T], describe: Callable[[T], str]) -> str | None:
    return ", ".join(describe(item) for item in items) or None


def _category(category: HarmfulCategory) -> str:
    details = [
        _word(CATEGORY_TYPES, category.CategoryType),
        f"level {_word(SECURITY_LEVELS, category.SecurityLevel)}"
        if category.SecurityLevel is not None
        else None,
        _word(INPUT_OUTPUT, category.InputOutputType),
    ]
    label = category.CategoryLabel or str(category.CategoryId or "?")
    return f"{label}({', '.join(d for d in details if d)})"


def _attack(attack: PromptAttack) -> str:
    label = attack.CategoryLabel or str(attack.CategoryId or "?")
    level = (
        f"(level {_word(SECURITY_LEVELS, attack.SecurityLevel)})" if attack.SecurityLevel is not None else ""
    )
    return label + level


def map_model_instance(body: ModelInstanceInfo) -> Observation:
    """The guardrail API documents no lifecycle state, so `providerState` stays unset.

    `Code` only says the call worked ("00000"); an error code never gets here. What the answer
    does document is where the model instance is reached: with a URL it serves (Ready), without
    one the operator cannot say (Unknown).
    """
    endpoints = [
        Endpoint(type=kind, url=url)
        for kind, url in (("public", body.ModelUrl), ("vpc", body.ModelVpcUrl))
        if url
    ]
    phase = Phase.READY if endpoints else Phase.UNKNOWN
    attributes = present(
        {
            "modelInstanceId": body.ModelInstanceId,
            "modelSource": _word(MODEL_SOURCES, body.ModelSource),
            "supportsText": body.IsSupportText,
            "supportsImage": body.IsSupportImage,
            "modelCategoryId": body.ModelCategoryId,
            "description": body.Description,
            "harmfulCategories": _summary(body.HarmfulCategoryConfigInfoList or [], _category),
            "promptAttacks": _summary(body.PromptAttackInfoList or [], _attack),
            "modifiedAt": epoch_ms_to_iso(body.GmtModified),
        }
    )
    service = ServiceStatus(
        name=body.EasServiceName or f"model-instance-{body.ModelInstanceId}",
        id=body.EasServiceId,
        model=body.ModelCallName,
        phase=phase,
    )
    return Observation(
        phase=phase,
        message=None if endpoints else "the model instance has no URL yet",
        services=[service],
        endpoints=endpoints,
        requestId=body.RequestId,
        attributes=attributes,
    )
