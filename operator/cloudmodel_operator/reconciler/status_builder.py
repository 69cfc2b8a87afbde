"""Fold one fetch outcome into the resource's status. Pure: no I/O, the clock is an argument.

The rules, in one place:
- a success replaces the observation and clears `failure`;
- a failure keeps the last good observation and records what failed, since when, how often;
- `Ready` follows the provider phase, turns Unknown when the observation goes stale;
- `Reconciling` is True while converging (first fetch, provider still progressing);
- `Stalled` is True when waiting will not help (terminal errors, a failed deployment);
- `Synced` says whether the last fetch worked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cloudmodel_operator.api.conditions import ConditionType, Reason
from cloudmodel_operator.api.observation import Observation, Phase, Usage
from cloudmodel_operator.api.status import (
    CloudModelServiceStatus,
    Condition,
    ConditionStatus,
    Failure,
    Summary,
)
from cloudmodel_operator.providers.base import ErrorClass
from cloudmodel_operator.redact import redact

PHASE_READY_REASON: dict[Phase, tuple[ConditionStatus, Reason]] = {
    Phase.READY: ("True", Reason.AVAILABLE),
    Phase.PROGRESSING: ("False", Reason.PROGRESSING),
    Phase.DEGRADED: ("False", Reason.DEGRADED),
    Phase.FAILED: ("False", Reason.FAILED),
    Phase.STOPPED: ("False", Reason.STOPPED),
    Phase.UNKNOWN: ("Unknown", Reason.UNKNOWN_STATE),
}

ERROR_CLASS_REASON: dict[ErrorClass, Reason] = {
    ErrorClass.AUTH: Reason.AUTHENTICATION_FAILED,
    ErrorClass.NOT_FOUND: Reason.NOT_FOUND,
    ErrorClass.THROTTLED: Reason.THROTTLED,
    ErrorClass.TRANSIENT: Reason.PROVIDER_UNREACHABLE,
    ErrorClass.INVALID_RESPONSE: Reason.INVALID_RESPONSE,
    ErrorClass.PERMANENT: Reason.PROVIDER_ERROR,
}


@dataclass(frozen=True)
class Observed:
    observation: Observation


@dataclass(frozen=True)
class FetchFailed:
    reason: Reason
    message: str
    retrying: bool
    error_class: str | None = None
    code: str | None = None
    http_status: int | None = None
    request_id: str | None = None


@dataclass(frozen=True)
class Suspended:
    pass


Outcome = Observed | FetchFailed | Suspended


@dataclass(frozen=True)
class Context:
    generation: int | None
    target: str
    provider: str
    now: datetime
    stale_after: timedelta


def summary_of(observation: Observation) -> Summary:
    def fraction(used: int | str | None, total: int | str | None) -> str | None:
        return (
            None
            if used is None and total is None
            else f"{used if used is not None else '-'}/{total if total is not None else '-'}"
        )

    gpu: Usage | None = observation.resources.gpu
    units: Usage | None = observation.resources.computeUnits
    return Summary(
        replicas=fraction(observation.replicas.ready, observation.replicas.desired),
        gpu=fraction(gpu.used, gpu.total) if gpu else None,
        computeUnits=fraction(units.used, units.total) if units else None,
    )


def _set_condition(
    conditions: list[Condition],
    type_: ConditionType,
    status: ConditionStatus,
    reason: Reason,
    message: str,
    ctx: Context,
) -> list[Condition]:
    """Replace one condition; lastTransitionTime moves only when the status flips."""
    previous = next((c for c in conditions if c.type == type_.value), None)
    transition = ctx.now if previous is None or previous.status != status else previous.lastTransitionTime
    updated = Condition(
        type=type_.value,
        status=status,
        reason=reason.value,
        message=redact(message),
        lastTransitionTime=transition,
        observedGeneration=ctx.generation,
    )
    return [c for c in conditions if c.type != type_.value] + [updated]


def build_status(
    previous: CloudModelServiceStatus, outcome: Outcome, ctx: Context
) -> CloudModelServiceStatus:
    status = previous.model_copy(deep=True)
    status.observedGeneration = ctx.generation
    status.target = ctx.target

    if isinstance(outcome, Observed):
        obs = outcome.observation
        status.phase = obs.phase
        status.providerState = obs.providerState
        status.message = redact(obs.message) if obs.message else None
        status.resources = obs.resources
        status.replicas = obs.replicas
        status.services = obs.services
        status.endpoints = obs.endpoints
        status.billing = obs.billing
        status.requestId = obs.requestId
        status.attributes = obs.attributes or None
        status.summary = summary_of(obs)
        status.lastSyncTime = ctx.now
        status.failure = None
    elif isinstance(outcome, FetchFailed):
        streak = previous.failure
        same_streak = streak is not None
        status.failure = Failure(
            reason=outcome.reason.value,
            errorClass=outcome.error_class,
            code=outcome.code,
            message=redact(outcome.message),
            httpStatus=outcome.http_status,
            requestId=outcome.request_id,
            since=streak.since if same_streak and streak is not None else ctx.now,
            consecutiveFailures=(streak.consecutiveFailures + 1) if streak is not None else 1,
            retrying=outcome.retrying,
        )

    status.conditions = _conditions(status, outcome, ctx)
    return status


def _conditions(status: CloudModelServiceStatus, outcome: Outcome, ctx: Context) -> list[Condition]:
    conditions = list(status.conditions)
    observed = status.lastSyncTime is not None
    failure = status.failure
    stale = (
        failure is not None
        and status.lastSyncTime is not None
        and ctx.now - status.lastSyncTime > ctx.stale_after
    )
    terminal = failure is not None and not failure.retrying

    # Synced
    if isinstance(outcome, Suspended):
        synced: tuple[ConditionStatus, Reason, str] = (
            "False", Reason.SUSPENDED, "polling is suspended by spec.suspend; the status keeps the last observation",
        )  # fmt: skip
    elif failure is not None:
        synced = ("False", Reason(failure.reason), _failure_message(failure, ctx))
    else:
        synced = ("True", Reason.SYNC_SUCCEEDED, f"fetched {ctx.target} from {ctx.provider}")
    conditions = _set_condition(conditions, ConditionType.SYNCED, *synced, ctx)

    # Ready
    if not observed:
        if failure is not None:
            ready: tuple[ConditionStatus, Reason, str] = (
                "False" if terminal else "Unknown",
                Reason(failure.reason),
                f"nothing observed yet: {failure.message}",
            )
        else:
            ready = ("Unknown", Reason.AWAITING_OBSERVATION, "waiting for the first fetch from the provider")
    elif stale and status.lastSyncTime is not None:
        ready = (
            "Unknown",
            Reason.STALE_OBSERVATION,
            f"last successful fetch at {status.lastSyncTime:%Y-%m-%dT%H:%M:%SZ}; "
            f"fetching fails since {failure.since:%Y-%m-%dT%H:%M:%SZ}"
            if failure
            else "",
        )
    else:
        state, reason = PHASE_READY_REASON[status.phase]
        detail = f"provider state {status.providerState!r}" if status.providerState else "no provider state"
        ready = (state, reason, f"{status.phase.value}: {status.message}" if status.message else detail)
    conditions = _set_condition(conditions, ConditionType.READY, *ready, ctx)

    # Reconciling
    if isinstance(outcome, Suspended):
        reconciling: tuple[ConditionStatus, Reason, str] = ("False", Reason.SUSPENDED, "polling is suspended")
    elif not observed and not terminal:
        reconciling = ("True", Reason.AWAITING_OBSERVATION, "waiting for the first fetch from the provider")
    elif observed and status.phase is Phase.PROGRESSING and not stale:
        reconciling = (
            "True",
            Reason.PROGRESSING,
            status.message or f"provider state {status.providerState!r}",
        )
    else:
        reconciling = ("False", Reason.STABLE, "nothing in flight: the status matches the provider")
    conditions = _set_condition(conditions, ConditionType.RECONCILING, *reconciling, ctx)

    # Stalled
    if terminal and failure is not None:
        stalled: tuple[ConditionStatus, Reason, str] = (
            "True", Reason(failure.reason), _failure_message(failure, ctx),
        )  # fmt: skip
    elif observed and status.phase is Phase.FAILED and failure is None:
        stalled = ("True", Reason.FAILED, status.message or "the provider reports a failed deployment")
    elif failure is not None:
        stalled = ("False", Reason.RETRYING, "the last fetch failed and will be retried")
    else:
        stalled = ("False", Reason.STABLE, "not stalled")
    conditions = _set_condition(conditions, ConditionType.STALLED, *stalled, ctx)

    order = [t.value for t in ConditionType]
    return sorted(conditions, key=lambda c: order.index(c.type) if c.type in order else len(order))


def _failure_message(failure: Failure, ctx: Context) -> str:
    how = "retrying every poll" if failure.retrying else "not retrying until the spec or credentials change"
    return (
        f"{failure.message} (failing since {failure.since:%Y-%m-%dT%H:%M:%SZ}, "
        f"{failure.consecutiveFailures} in a row; {how})"
    )


# Fields that change on every fetch without saying anything new; they are written along with
# real changes or with the periodic heartbeat, never on their own.
VOLATILE = ("lastSyncTime", "requestId")


def comparable(status: CloudModelServiceStatus) -> dict[str, object]:
    """The status without volatile fields, for deciding whether a write is needed."""
    data = status.model_dump(mode="json", exclude=set(VOLATILE))
    failure = data.get("failure")
    if isinstance(failure, dict):
        failure.pop("consecutiveFailures", None)
        failure.pop("requestId", None)
        # Messages about the failure carry the streak count; its reason and status are what matter.
        for condition in data.get("conditions") or []:
            if isinstance(condition, dict) and condition.get("reason") == failure.get("reason"):
                condition.pop("message", None)
    return data
