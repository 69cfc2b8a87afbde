"""What a provider reports about one target, normalized across providers.

Providers produce an `Observation`; the reconciler folds it into the resource's status.
Field names are the camelCase names that appear in `status` (and in the CRD schema).
Quantities are Kubernetes quantity strings (`"32"`, `"128Gi"`, `"500m"`) so that units are
explicit and tools that already parse quantities (kubectl, kube-state-metrics) understand them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema


def _as_utc(value: datetime) -> datetime:
    # Naive datetimes from providers are UTC by their documentation.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Timestamp = Annotated[
    datetime,
    AfterValidator(_as_utc),
    PlainSerializer(lambda value: value.strftime("%Y-%m-%dT%H:%M:%SZ"), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""A point in time, written the way Kubernetes writes metav1.Time: RFC 3339, UTC, seconds."""


class Phase(StrEnum):
    """One phase for every provider's lifecycle (see each provider's `mapping.py`)."""

    READY = "Ready"
    PROGRESSING = "Progressing"
    DEGRADED = "Degraded"
    FAILED = "Failed"
    STOPPED = "Stopped"
    UNKNOWN = "Unknown"


class StatusModel(BaseModel):
    """Base of every status model: camelCase names, unset fields left out of the patch."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=False)


class Usage(StatusModel):
    """Total and used amounts of one resource, as Kubernetes quantities."""

    total: str | None = None
    used: str | None = None


class Resources(StatusModel):
    """Capacity of the provider-side node or instance.

    Units: cpu in cores, memory and gpuMemory in bytes (binary suffixes, e.g. `128Gi`),
    gpu in cards, computeUnits in the provider's compute units.
    """

    cpu: Usage | None = None
    memory: Usage | None = None
    gpu: Usage | None = None
    gpuMemory: Usage | None = None
    computeUnits: Usage | None = None


class ResourceAmounts(StatusModel):
    """Amounts of each resource (same units as `Resources`)."""

    cpu: str | None = None
    memory: str | None = None
    gpu: str | None = None
    gpuMemory: str | None = None
    npu: str | None = None
    computeUnits: str | None = None


class ServiceResources(StatusModel):
    """What one model service is allocated: per replica and for all its replicas together.

    Each is set only where the provider says it or it follows from what the provider says
    (total = per replica x replicas); docs/providers.md says which for every provider.
    """

    perReplica: ResourceAmounts | None = Field(default=None, description="Allocated to each replica.")
    total: ResourceAmounts | None = Field(default=None, description="Allocated to all replicas together.")


class Replicas(StatusModel):
    """Replica counts summed across the model services of the target."""

    desired: int | None = None
    ready: int | None = None


class ServiceStatus(StatusModel):
    """One model service (Hologres model service, ModelArts model config, Qianfan service...)."""

    name: str
    id: str | None = None
    model: str | None = None
    version: str | None = None
    taskType: str | None = None
    state: str | None = Field(default=None, description="The provider's own state string, verbatim.")
    phase: Phase = Phase.UNKNOWN
    replicas: int | None = None
    readyReplicas: int | None = None
    weight: int | None = None
    specification: str | None = None
    resources: ServiceResources | None = None
    message: str | None = None
    attributes: dict[str, str] = Field(default_factory=dict)


class Endpoint(StatusModel):
    """An address where the model service can be reached (never with credentials in it)."""

    type: str = Field(description="public, vpc, access, customDomain, debug or predict")
    url: str


class Billing(StatusModel):
    chargeType: str | None = None
    startTime: Timestamp | None = None
    expirationTime: Timestamp | None = None
    releaseTime: Timestamp | None = None
    autoRenew: bool | None = None
    autoRenewPeriod: str | None = Field(default=None, description="e.g. '4 month'")


class Observation(StatusModel):
    """The normalized result of one successful fetch of one provider target."""

    phase: Phase
    providerState: str | None = None
    message: str | None = None
    resources: Resources = Field(default_factory=Resources)
    replicas: Replicas = Field(default_factory=Replicas)
    services: list[ServiceStatus] = Field(default_factory=list)
    endpoints: list[Endpoint] = Field(default_factory=list)
    billing: Billing | None = None
    autoStopTime: Timestamp | None = Field(
        default=None, description="When the provider stops the service by itself (a schedule, not billing)."
    )
    requestId: str | None = None
    attributes: dict[str, str] = Field(
        default_factory=dict,
        description="Provider-specific facts that have no common field (see docs/providers.md).",
    )
    counters: dict[str, float] = Field(
        default_factory=dict,
        exclude=True,
        description=(
            "Monotonic traffic counters (e.g. ModelArts invocation_times): exported as metrics by the "
            "engine, never written to the status, since they change on every poll of a busy service."
        ),
    )
