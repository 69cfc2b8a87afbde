"""ModelArts responses -> the normalized observation. Pure functions; the phase tables live here."""

from __future__ import annotations

from cloudmodel_operator.api.observation import (
    Billing,
    Endpoint,
    Observation,
    Phase,
    Replicas,
    ServiceResources,
    ServiceStatus,
)
from cloudmodel_operator.providers.huawei.models import AcceleratorInfo, ModelConfig, ServiceDetails
from cloudmodel_operator.providers.units import epoch_ms_to_iso, present, quantity

SERVICE_PHASES: dict[str, Phase] = {
    "running": Phase.READY,
    "deploying": Phase.PROGRESSING,
    "pending": Phase.PROGRESSING,
    "waiting": Phase.PROGRESSING,
    "stopping": Phase.PROGRESSING,
    "deleting": Phase.PROGRESSING,
    "concerning": Phase.DEGRADED,
    "failed": Phase.FAILED,
    "stopped": Phase.STOPPED,
    "finished": Phase.STOPPED,
}
# Per-model status: the same enum, plus `notReady` which the seed's own example uses.
CONFIG_PHASES: dict[str, Phase] = {**SERVICE_PHASES, "notReady": Phase.PROGRESSING, "ready": Phase.READY}
UNHEALTHY_NODE_STATES = frozenset({"notReady", "FAIL", "UNCONNECTED"})


# Display units of `specification_details`, as Kubernetes binary suffixes (MB is MiB there, as
# `custom_spec.memory` in MB is the same number of MiB the scheduler reserves).
SIZE_SUFFIX = {"KB": "Ki", "MB": "Mi", "GB": "Gi", "TB": "Ti"}


def sized(value: float | None, unit: str | None) -> str | None:
    suffix = SIZE_SUFFIX.get((unit or "").upper())
    return quantity(value, suffix) if suffix is not None else None


def _resources(config: ModelConfig) -> ServiceResources | None:
    """Per-instance resources: the custom spec when there is one, else the flavor's details."""
    spec, details = config.custom_spec, config.specification_details
    if spec is not None:
        return ServiceResources(
            cpu=quantity(spec.cpu),
            memory=quantity(spec.memory, "Mi"),
            gpu=quantity(spec.gpu_p4),
            npu=quantity(spec.ascend_a310),
        )
    if details is not None:
        cpu, memory, gpu, npu = details.cpu_info, details.memory_info, details.gpu_info, details.npu_info
        return ServiceResources(
            cpu=quantity(cpu.cpu) if cpu else None,
            memory=sized(memory.memory, memory.unit) if memory else None,
            gpu=quantity(gpu.gpu) if gpu else None,
            gpuMemory=sized(gpu.memory, gpu.unit) if gpu else None,
            npu=quantity(npu.npu) if npu else None,
        )
    return None


def _model_of(info: AcceleratorInfo | None) -> str | None:
    return " ".join(part for part in (info.brand, info.version) if part) or None if info else None


def _service(config: ModelConfig, service_phase: Phase) -> ServiceStatus:
    phase = CONFIG_PHASES.get(config.status or "", Phase.UNKNOWN) if config.status else service_phase
    ready = phase in (Phase.READY, Phase.DEGRADED)
    details = config.specification_details
    attributes = present(
        {
            "scaling": config.scaling,
            "supportDebug": config.support_debug,
            "flavor": details.display_en if details else None,
            "category": details.category if details else None,
            "cpuArch": details.cpu_info.arch if details and details.cpu_info else None,
            "gpuModel": _model_of(details.gpu_info) if details else None,
            "npuModel": _model_of(details.npu_info) if details else None,
            "npuMemory": sized(details.npu_info.memory, details.npu_info.unit)
            if details and details.npu_info
            else None,
            "clusterId": config.cluster_id,
            "poolName": config.pool_name,
            "sourceType": config.source_type,
            "startedAt": epoch_ms_to_iso(config.start_time),
            "finishedAt": epoch_ms_to_iso(config.finished_time),
            "srcPath": config.src_path,
            "srcType": config.src_type,
            "destPath": config.dest_path,
            "reqUri": config.req_uri,
            "mappingType": config.mapping_type,
            "edgeNodes": len(config.nodes) if config.nodes else None,
        }
    )
    return ServiceStatus(
        name=config.model_name or config.model_id or "(unnamed)",
        id=config.model_id,
        model=config.model_name,
        version=config.model_version,
        state=config.status,
        phase=phase,
        replicas=config.instance_count,
        readyReplicas=(config.instance_count or 0) if ready else 0,
        weight=config.weight,
        specification=config.specification,
        resources=_resources(config),
        attributes=attributes,
    )


def map_service(body: ServiceDetails) -> Observation:
    phase = SERVICE_PHASES.get(body.status or "", Phase.UNKNOWN)
    services = [_service(config, phase) for config in body.config or []]
    # The seed puts edge nodes under each config; a top-level list is accepted as well.
    nodes = [*(body.nodes or []), *(n for c in body.config or [] for n in c.nodes or [])]
    unhealthy = [
        n for n in nodes if (n.state in UNHEALTHY_NODE_STATES or n.instance_status in UNHEALTHY_NODE_STATES)
    ]
    if phase is Phase.READY and unhealthy:
        phase = Phase.DEGRADED
    message: str | None = None
    if phase is Phase.FAILED or body.error_msg:
        message = body.error_msg
    elif body.status == "deploying" and body.progress is not None:
        message = f"deploying ({body.progress}%)"
    elif body.status == "concerning":
        message = "some instances of the service are unhealthy"
    if unhealthy:
        detail = ", ".join(
            f"{n.name or n.id}: {n.message or n.state or n.instance_status}" for n in unhealthy
        )
        message = f"{message}; edge nodes: {detail}" if message else f"edge nodes: {detail}"
    endpoints = [
        Endpoint(type=kind, url=url)
        for kind, url in (
            ("access", body.access_address),
            ("customDomain", body.bind_access_address),
            ("debug", body.debug_url),
        )
        if url
    ] + [Endpoint(type="predict", url=n.predict_url) for n in nodes if n.predict_url]
    attributes = present(
        {
            "serviceName": body.service_name,
            "inferType": body.infer_type,
            "progress": body.progress,
            "invocationTimes": body.invocation_times,
            "failedTimes": body.failed_times,
            "clusterId": body.cluster_id,
            "poolName": body.pool_name,
            "isFree": body.is_free,
            "isShared": body.is_shared,
            "workspaceId": body.workspace_id,
            "description": body.description,
            "vpcId": body.vpc_id,
            "subnetNetworkId": body.subnet_network_id,
            "securityGroupId": body.security_group_id,
            "loadBalancerPolicy": body.load_balancer_policy,
            "priority": body.priority,
            "sharedCount": body.shared_count,
            "publishedAt": epoch_ms_to_iso(body.publish_at),
            "updatedAt": epoch_ms_to_iso(body.update_time),
            "transitionAt": epoch_ms_to_iso(body.transition_at),
            "schedule": ", ".join(
                f"{s.get('type')} {s.get('duration')}{s.get('time_unit', '')}" for s in body.schedule
            )
            if body.schedule
            else None,
            "edgeNodes": len(nodes) if nodes else None,
        }
    )
    return Observation(
        phase=phase,
        providerState=body.status,
        message=message,
        replicas=Replicas(
            desired=sum(s.replicas or 0 for s in services),
            ready=sum(s.readyReplicas or 0 for s in services),
        ),
        services=services,
        endpoints=endpoints,
        billing=Billing(expirationTime=epoch_ms_to_iso(body.due_time)) if body.due_time else None,
        attributes=attributes,
    )
