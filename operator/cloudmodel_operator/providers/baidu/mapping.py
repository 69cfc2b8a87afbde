"""Qianfan responses -> the normalized observation. Pure functions; the phase tables live here.

Overall phase: the compute unit's, made worse by its services: a Running unit with a failed,
degraded or scaling-failed service is Degraded, one with a service still deploying or scaling
is Progressing.
"""

from __future__ import annotations

from cloudmodel_operator.api.observation import (
    Billing,
    Observation,
    Phase,
    Replicas,
    Resources,
    ServiceResources,
    ServiceStatus,
    Usage,
)
from cloudmodel_operator.providers.baidu.models import AutoRenew, DescribeComputeUnitResponse, ServiceUsage
from cloudmodel_operator.providers.units import present, quantity

UNIT_PHASES: dict[str, Phase] = {
    "Running": Phase.READY,
    "Creating": Phase.PROGRESSING,
    "Reconfiguring": Phase.PROGRESSING,
    "Releasing": Phase.PROGRESSING,
    "CreateFailed": Phase.FAILED,
    "ReconfigureFailed": Phase.DEGRADED,
    "Released": Phase.STOPPED,
}
RUN_PHASES: dict[str, Phase] = {
    "Serving": Phase.READY,
    "New": Phase.PROGRESSING,
    "Deploying": Phase.PROGRESSING,
    "Deactivating": Phase.PROGRESSING,
    "Failed": Phase.FAILED,
    "DeactivationFailed": Phase.DEGRADED,
}
SCALE_PHASES: dict[str, Phase] = {
    "ScalingIn": Phase.PROGRESSING,
    "ScalingOut": Phase.PROGRESSING,
    "ScalingFailed": Phase.DEGRADED,
}


def service_phase(service: ServiceUsage) -> Phase:
    phase = RUN_PHASES.get(service.runStatus or "", Phase.UNKNOWN)
    scale = SCALE_PHASES.get(service.scaleStatus or "")
    if phase is Phase.READY and scale is not None:
        return scale  # serving while scaling (or after a failed scale)
    return phase


def combine(unit: Phase, services: list[Phase]) -> Phase:
    if unit is not Phase.READY:
        return unit
    if any(p in (Phase.FAILED, Phase.DEGRADED) for p in services):
        return Phase.DEGRADED
    if any(p is Phase.PROGRESSING for p in services):
        return Phase.PROGRESSING
    if any(p is Phase.UNKNOWN for p in services):
        return Phase.UNKNOWN
    return Phase.READY


def renew_period(auto_renew: AutoRenew | bool | None) -> tuple[bool | None, str | None]:
    if isinstance(auto_renew, AutoRenew):
        period = (
            f"{auto_renew.renewTime} {auto_renew.renewTimeUnit.lower()}"
            if auto_renew.renewTime and auto_renew.renewTimeUnit
            else None
        )
        return True, period
    return auto_renew, None


def map_compute_unit(body: DescribeComputeUnitResponse, request_id: str | None = None) -> Observation:
    unit = body.result.computeUnitInstance
    services = []
    for usage in body.result.services:
        phase = service_phase(usage)
        services.append(
            ServiceStatus(
                name=usage.serviceName or usage.serviceId or "(unnamed)",
                id=usage.serviceId,
                state=usage.runStatus,
                phase=phase,
                resources=ServiceResources(computeUnits=quantity(usage.deployedComputingUnits)),
                attributes={"scaleStatus": usage.scaleStatus} if usage.scaleStatus else {},
            )
        )
    unit_phase = UNIT_PHASES.get(unit.status or "", Phase.UNKNOWN) if unit else Phase.UNKNOWN
    phase = combine(unit_phase, [s.phase for s in services])
    troubled = [f"{s.name}: {s.state}" + (f" ({s.attributes['scaleStatus']})" if "scaleStatus" in s.attributes else "")
                for s in services if s.phase is not Phase.READY]  # fmt: skip
    auto_renew, period = renew_period(unit.autoRenew if unit else None)
    attributes = present(
        {
            "instanceId": unit.instanceId if unit else None,
            "region": unit.region if unit else None,
            "type": unit.type if unit else None,
            "reservation": f"{unit.reservationLength} {unit.reservationTimeUnit.lower()}"
            if unit and unit.reservationLength and unit.reservationTimeUnit
            else None,
        }
    )
    return Observation(
        phase=phase,
        providerState=unit.status if unit else None,
        message="; ".join(troubled) or None,
        resources=Resources(
            computeUnits=Usage(total=quantity(unit.totalComputeUnits), used=quantity(unit.usedComputeUnits))
            if unit and (unit.totalComputeUnits is not None or unit.usedComputeUnits is not None)
            else None
        ),
        replicas=Replicas(desired=len(services), ready=sum(1 for s in services if s.state == "Serving"))
        if services
        else Replicas(),
        services=services,
        billing=Billing(
            chargeType=unit.paymentTiming,
            startTime=unit.startTime,
            expirationTime=unit.expiredTime,
            releaseTime=unit.releaseTime,
            autoRenew=auto_renew,
            autoRenewPeriod=period,
        )
        if unit
        else None,
        requestId=body.requestId or request_id,
        attributes=attributes,
    )
