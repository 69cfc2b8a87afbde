"""Qianfan responses -> the normalized observation. Pure functions; the state tables live here.

Phases follow the one rule in `providers.phases`: the compute unit's `status`, made worse by its
services; each service's `runStatus`, made worse by its `scaleStatus`.
"""

from __future__ import annotations

from cloudmodel_operator.api.observation import (
    Billing,
    Observation,
    Phase,
    ResourceAmounts,
    Resources,
    ServiceResources,
    ServiceStatus,
    Usage,
)
from cloudmodel_operator.providers.baidu.models import AutoRenew, DescribeComputeUnitResponse, ServiceUsage
from cloudmodel_operator.providers.phases import combine, lookup
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
    # 待发布, waiting to be published: nothing happens until someone publishes it, so it is not
    # Progressing (which would read "wait and it will be ready") but Stopped, with a message.
    "New": Phase.STOPPED,
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
NOT_PUBLISHED = "not published"
PREPAID = "prepaid"


def service_phase(service: ServiceUsage) -> Phase:
    scale = lookup(SCALE_PHASES, service.scaleStatus)
    return combine(lookup(RUN_PHASES, service.runStatus), [scale] if scale is not None else [])


def auto_renew(value: AutoRenew | bool | None, payment: str | None) -> tuple[bool | None, str | None]:
    """(autoRenew, period). The seed returns `autoRenew` only for prepaid units that renew, so a
    prepaid unit without it does not renew (False); for postpaid units renewal does not apply."""
    if isinstance(value, AutoRenew):
        period = (
            f"{value.renewTime} {value.renewTimeUnit.lower()}"
            if value.renewTime and value.renewTimeUnit
            else None
        )
        return True, period
    if value is None and (payment or "").lower() == PREPAID:
        return False, None
    return value, None


def _service(usage: ServiceUsage) -> ServiceStatus:
    phase = service_phase(usage)
    message = NOT_PUBLISHED if usage.runStatus == "New" else None
    # deployedComputingUnits is "per-replica units x replicas" (seed): a total. The replica count
    # itself is not documented, so neither per-replica units nor replicas are shown.
    units = quantity(usage.deployedComputingUnits)
    return ServiceStatus(
        name=usage.serviceName or usage.serviceId or "(unnamed)",
        id=usage.serviceId,
        state=usage.runStatus,
        phase=phase,
        resources=ServiceResources(total=ResourceAmounts(computeUnits=units)) if units is not None else None,
        message=message,
        attributes={"scaleStatus": usage.scaleStatus} if usage.scaleStatus else {},
    )


def map_compute_unit(body: DescribeComputeUnitResponse, request_id: str | None = None) -> Observation:
    unit = body.result.computeUnitInstance
    services = [_service(usage) for usage in body.result.services]
    phase = combine(lookup(UNIT_PHASES, unit.status if unit else None), [s.phase for s in services])
    troubled = [
        f"{s.name}: {s.state or 'no state'}"
        + (f" ({s.attributes['scaleStatus']})" if "scaleStatus" in s.attributes else "")
        + (f", {s.message}" if s.message else "")
        for s in services
        if s.phase is not Phase.READY
    ]
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
    billing = None
    if unit is not None:
        renew, period = auto_renew(unit.autoRenew, unit.paymentTiming)
        billing = Billing(
            chargeType=unit.paymentTiming,
            startTime=unit.startTime,
            expirationTime=unit.expiredTime,
            releaseTime=unit.releaseTime,
            autoRenew=renew,
            autoRenewPeriod=period,
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
        services=services,
        billing=billing if billing is not None and billing.model_dump(exclude_none=True) else None,
        requestId=body.requestId or request_id,
        attributes=attributes,
    )
