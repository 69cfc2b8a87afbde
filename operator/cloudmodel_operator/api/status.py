"""The `CloudModelService` status: the last good observation plus sync state and conditions."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from cloudmodel_operator.api.observation import (
    Billing,
    Endpoint,
    Observation,
    Phase,
    Replicas,
    Resources,
    ServiceStatus,
    StatusModel,
    Timestamp,
)

ConditionStatus = Literal["True", "False", "Unknown"]


class Condition(StatusModel):
    type: str
    status: ConditionStatus
    reason: str
    message: str = ""
    lastTransitionTime: Timestamp
    observedGeneration: int | None = None


class Failure(StatusModel):
    """What is failing right now, since when and how often; cleared by the next success."""

    reason: str
    errorClass: str | None = None
    code: str | None = None
    message: str
    httpStatus: int | None = None
    requestId: str | None = None
    secret: str | None = Field(
        default=None, description="The credentials Secret involved, when the failure is about credentials."
    )
    since: Timestamp
    consecutiveFailures: int = Field(ge=1)
    retrying: bool = Field(description="Whether the operator keeps polling (false: waits for a change).")


class Summary(StatusModel):
    """Preformatted values for `kubectl get` columns (JSONPath cannot join two numbers)."""

    replicas: str | None = Field(
        default=None, description="ready/desired replicas, where the provider counts them"
    )
    services: str | None = Field(default=None, description="ready/total model services")
    gpu: str | None = None
    computeUnits: str | None = None
    reason: str | None = Field(
        default=None,
        description="The reason to look at first: a stalled or failing sync, else Ready's reason.",
    )


class Omitted(StatusModel):
    """How much was left out to keep the status within its size budget."""

    services: int | None = None
    endpoints: int | None = None
    attributes: int | None = None


class CloudModelServiceStatus(StatusModel):
    observedGeneration: int | None = None
    phase: Phase = Phase.UNKNOWN
    providerState: str | None = None
    message: str | None = None
    target: str | None = None
    summary: Summary | None = None
    resources: Resources | None = None
    replicas: Replicas | None = None
    services: list[ServiceStatus] | None = None
    endpoints: list[Endpoint] | None = None
    billing: Billing | None = None
    autoStopTime: Timestamp | None = Field(
        default=None, description="When the provider stops the service by itself (a schedule, not billing)."
    )
    requestId: str | None = None
    attributes: dict[str, str] | None = None
    lastSyncTime: Timestamp | None = None
    lastHandledReconcileAt: str | None = Field(
        default=None,
        description="The value of the reconcile-requested-at annotation the operator last acted on.",
    )
    omitted: Omitted | None = None
    failure: Failure | None = None
    conditions: list[Condition] = Field(default_factory=list)

    def condition(self, type_: str) -> Condition | None:
        return next((c for c in self.conditions if c.type == type_), None)

    def document(self) -> dict[str, Any]:
        """The status as written: unset fields and empty lists or maps left out."""
        pruned = _prune(self.model_dump(mode="json", exclude_none=True))
        return pruned if isinstance(pruned, dict) else {}

    @classmethod
    def from_object(cls, raw: dict[str, Any] | None) -> CloudModelServiceStatus:
        """Parse what the API server holds; anything unreadable counts as no status."""
        if not raw:
            return cls()
        try:
            return cls.model_validate(raw)
        except ValueError:
            return cls()


# The observation's fields that a status carries (all of them but what the observation marks as
# not for the status, e.g. traffic counters that belong in metrics).
OBSERVED_FIELDS: tuple[str, ...] = tuple(
    name for name, info in Observation.model_fields.items() if not info.exclude
)


def _prune(value: Any) -> Any:
    if isinstance(value, dict):
        items = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in items.items() if v not in ({}, [])}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value
