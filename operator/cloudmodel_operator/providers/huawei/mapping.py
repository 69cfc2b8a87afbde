"""ModelArts responses -> the normalized observation. Pure functions; the state tables live here.

Phases follow the one rule in `providers.phases`, on three levels: each edge node (its model
instance's `instance_status` and its host's `state`), each model config (its `status` and its
nodes) and the service (its `status`, its configs and any top-level nodes).
"""

from __future__ import annotations

from cloudmodel_operator.api.observation import (
    Endpoint,
    Observation,
    Phase,
    ResourceAmounts,
    ServiceResources,
    ServiceStatus,
)
from cloudmodel_operator.providers.huawei.models import (
    AcceleratorInfo,
    CustomSpec,
    EdgeNode,
    ModelConfig,
    ServiceDetails,
    SpecificationDetails,
)
from cloudmodel_operator.providers.phases import combine, lookup
from cloudmodel_operator.providers.units import epoch_ms, epoch_ms_to_iso, present, quantity, total_replicas

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
# Per-model status: the same enum (table 4), plus `notReady`, which the seed's own example shows
# (its instances are not ready yet), and `ready`.
CONFIG_PHASES: dict[str, Phase] = {**SERVICE_PHASES, "notReady": Phase.PROGRESSING, "ready": Phase.READY}
# Edge nodes (table 6): the model instance on the node, and the host itself.
INSTANCE_PHASES: dict[str, Phase] = {
    "running": Phase.READY,
    "stopped": Phase.STOPPED,
    "notReady": Phase.PROGRESSING,
    "failed": Phase.FAILED,
}
HOST_PHASES: dict[str, Phase] = {"RUNNING": Phase.READY, "FAIL": Phase.FAILED, "UNCONNECTED": Phase.DEGRADED}
# Ready instances of a config in each phase: all, none, or unknown (some of them are unhealthy).
READY_SHARE: dict[Phase, bool | None] = {
    Phase.READY: True,
    Phase.PROGRESSING: False,
    Phase.FAILED: False,
    Phase.STOPPED: False,
    Phase.DEGRADED: None,
    Phase.UNKNOWN: None,
}

# Display units of `specification_details`, as Kubernetes binary suffixes (MB is MiB there, as
# `custom_spec.memory` in MB is the same number of MiB the scheduler reserves).
SIZE_SUFFIX = {"KB": "Ki", "MB": "Mi", "GB": "Gi", "TB": "Ti"}


def sized(value: float | None, unit: str | None, *, times: int = 1) -> str | None:
    suffix = SIZE_SUFFIX.get((unit or "").upper())
    return quantity(value, suffix, times=times) if suffix is not None else None


def node_phase(node: EdgeNode) -> Phase | None:
    """An edge node's phase: its model instance's state, made worse by its host's; None if neither."""
    instance = lookup(INSTANCE_PHASES, node.instance_status)
    host = lookup(HOST_PHASES, node.state)
    if instance is None and host is None:
        return None
    return combine(instance, [host] if host is not None else [])


def _has_values(spec: CustomSpec | None) -> bool:
    return spec is not None and any(v is not None for v in spec.model_dump().values())


def _amounts(config: ModelConfig, times: int = 1) -> ResourceAmounts | None:
    """Per-instance resources x `times`: the custom spec when it says anything, else the flavor's.

    The seed's own example carries `"custom_spec": {}` next to a flavor: an empty custom spec
    says nothing and must not hide what `specification_details` describes.
    """
    spec, details = config.custom_spec, config.specification_details
    if spec is not None and _has_values(spec):
        return ResourceAmounts(
            cpu=quantity(spec.cpu, times=times),
            memory=quantity(spec.memory, "Mi", times=times),
            gpu=quantity(spec.gpu_p4, times=times),
            npu=quantity(spec.ascend_a310, times=times),
        )
    if details is None:
        return None
    cpu, memory, gpu, npu = details.cpu_info, details.memory_info, details.gpu_info, details.npu_info
    amounts = ResourceAmounts(
        cpu=quantity(cpu.cpu, times=times) if cpu else None,
        memory=sized(memory.memory, memory.unit, times=times) if memory else None,
        gpu=quantity(gpu.gpu, times=times) if gpu else None,
        gpuMemory=sized(gpu.memory, gpu.unit, times=times) if gpu else None,
        npu=quantity(npu.npu, times=times) if npu else None,
    )
    return amounts if amounts.model_dump(exclude_none=True) else None


def _resources(config: ModelConfig) -> ServiceResources | None:
    """Flavors and custom specs are per instance; the total is that x `instance_count`."""
    per_replica = _amounts(config)
    if per_replica is None:
        return None
    total = _amounts(config, config.instance_count) if config.instance_count is not None else None
    return ServiceResources(perReplica=per_replica, total=total)


def _model_of(info: AcceleratorInfo | None) -> str | None:
    return " ".join(part for part in (info.brand, info.version) if part) or None if info else None


def _flavor_attributes(details: SpecificationDetails | None) -> dict[str, object]:
    if details is None:
        return {}
    return {
        "flavor": details.display_en,
        "category": details.category,
        "cpuArch": details.cpu_info.arch if details.cpu_info else None,
        "gpuModel": _model_of(details.gpu_info),
        "npuModel": _model_of(details.npu_info),
        "npuMemory": sized(details.npu_info.memory, details.npu_info.unit) if details.npu_info else None,
    }


def config_phase(config: ModelConfig) -> Phase | None:
    """A config's phase from its status and its nodes; None when it has neither (shared services)."""
    nodes = [p for p in (node_phase(n) for n in config.nodes or []) if p is not None]
    own = lookup(CONFIG_PHASES, config.status)
    if own is None and not nodes:
        return None
    return combine(own, nodes)


def _ready_instances(config: ModelConfig, phase: Phase) -> int | None:
    if config.instance_count is None:
        return None
    nodes = [node_phase(n) for n in config.nodes or []]
    if any(p is not None for p in nodes):
        # Edge: one model instance per node; count the nodes that are ready.
        return min(config.instance_count, sum(1 for p in nodes if p is Phase.READY))
    share = READY_SHARE.get(phase)
    return None if share is None else (config.instance_count if share else 0)


def _service(config: ModelConfig, phase: Phase) -> ServiceStatus:
    attributes = present(
        {
            "scaling": config.scaling,
            "supportDebug": config.support_debug,
            **_flavor_attributes(config.specification_details),
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
        readyReplicas=_ready_instances(config, phase),
        weight=config.weight,
        specification=config.specification,
        resources=_resources(config),
        attributes=attributes,
    )


def _message(body: ServiceDetails, services: list[ServiceStatus], unhealthy: list[EdgeNode]) -> str | None:
    parts: list[str] = []
    if body.status == "deploying" and body.progress is not None:
        parts.append(f"deploying ({body.progress}%)")
    elif body.status == "concerning":
        parts.append("some instances of the service are unhealthy")
    if body.error_msg:
        parts.append(body.error_msg)
    for s in services:
        if s.phase is not Phase.READY and s.state is not None and s.state != body.status:
            ready = f" ({s.readyReplicas}/{s.replicas} instances ready)" if s.replicas is not None else ""
            parts.append(f"{s.name}: {s.state}{ready}")
    if unhealthy:
        parts.append(
            "edge nodes: "
            + ", ".join(f"{n.name or n.id}: {n.message or n.instance_status or n.state}" for n in unhealthy)
        )
    return "; ".join(parts) or None


def map_service(body: ServiceDetails) -> Observation:
    own = lookup(SERVICE_PHASES, body.status)
    configs = body.config or []
    config_phases = [config_phase(c) for c in configs]
    top_nodes = [p for p in (node_phase(n) for n in body.nodes or []) if p is not None]
    phase = combine(own, [p for p in config_phases if p is not None] + top_nodes)
    # A config without a status of its own (shared services) shows the service's own phase.
    shown = [p if p is not None else (own or Phase.UNKNOWN) for p in config_phases]
    services = [_service(c, p) for c, p in zip(configs, shown, strict=True)]
    # The seed puts edge nodes under each config; a top-level list is accepted as well.
    nodes = [*(body.nodes or []), *(n for c in configs for n in c.nodes or [])]
    unhealthy = [n for n in nodes if node_phase(n) not in (None, Phase.READY)]
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
                f"{s.type or '?'} {s.duration if s.duration is not None else '?'}{s.time_unit or ''}"
                for s in body.schedule
            )
            if body.schedule
            else None,
            "edgeNodes": len(nodes) if nodes else None,
        }
    )
    counters = {
        name: float(value)
        for name, value in (("invocations", body.invocation_times), ("failedInvocations", body.failed_times))
        if value is not None
    }
    return Observation(
        phase=phase,
        providerState=body.status,
        message=_message(body, services, unhealthy),
        replicas=total_replicas(services),
        services=services,
        endpoints=endpoints,
        autoStopTime=epoch_ms(body.due_time),
        attributes=attributes,
        counters=counters,
    )
