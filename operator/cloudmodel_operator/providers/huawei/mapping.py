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
from cloudmodel_operator.providers.huawei.models import ModelConfig, ServiceDetails
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


def _service(config: ModelConfig, service_phase: Phase) -> ServiceStatus:
    phase = CONFIG_PHASES.get(config.status or "", Phase.UNKNOWN) if config.status else service_phase
    spec = config.custom_spec
    ready = phase in (Phase.READY, Phase.DEGRADED)
    attributes = present({"scaling": config.scaling, "supportDebug": config.support_debug})
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
        resources=ServiceResources(
            cpu=quantity(spec.cpu),
            memory=quantity(spec.memory, "Mi"),
            gpu=quantity(spec.gpu_p4),
            npu=quantity(spec.ascend_a310),
        )
        if spec
        else None,
        attributes=attributes,
    )


def map_service(body: ServiceDetails) -> Observation:
    phase = SERVICE_PHASES.get(body.status or "", Phase.UNKNOWN)
    services = [_service(config, phase) for config in body.config or []]
    nodes = body.nodes or []
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
