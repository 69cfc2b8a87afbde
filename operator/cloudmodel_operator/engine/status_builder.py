"""Fold one pass's outcome into the resource's status. Pure: no I/O, the clock is an argument.

The rules, in one place:
- a success replaces the observation and clears `failure`;
- a failure keeps the last good observation and records what failed, since when, how often,
  and which Secret, when it is about credentials;
- `Ready` follows the provider's phase while the observation is fresh. It is never `True` while
  the operator is blind: when the last success is older than the stale threshold (whatever the
  reason, including no recorded failure) it is `Unknown` (StaleObservation); after a terminal
  error it is `False` when the target is gone (NotFound) and `Unknown` when it cannot be read
  (auth, credentials, endpoint, a refused request). `phase` then reads `Unknown` too, while
  `providerState` keeps the provider's last word;
- `Reconciling` is True while converging (first fetch, provider still progressing);
- `Stalled` is True when waiting will not help (terminal errors, a failed deployment);
- `Synced` says whether the last pass worked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from cloudmodel_operator.api.conditions import ConditionType, Reason
from cloudmodel_operator.api.observation import Observation, Phase, Usage
from cloudmodel_operator.api.status import (
    OBSERVED_FIELDS,
    CloudModelServiceStatus,
    Condition,
    ConditionStatus,
    Failure,
    Omitted,
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

# A status the API server stores comfortably (its request limit is about 3 MiB and etcd's value
# limit 1.5 MiB, for the whole object): big enough for any real answer, small enough that a
# provider cannot make the object unwritable.
STATUS_BUDGET_BYTES = 256 * 1024


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
    about_credentials: bool = False


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
    secret: str | None = None
    reconcile_request: str | None = None
    late_note: str | None = None  # the provider budget cannot keep up with this resource's interval


def summary_of(status: CloudModelServiceStatus) -> Summary:
    def fraction(used: int | str | None, total: int | str | None) -> str | None:
        if used is None and total is None:
            return None
        return f"{used if used is not None else '-'}/{total if total is not None else '-'}"

    resources = status.resources
    gpu: Usage | None = resources.gpu if resources else None
    units: Usage | None = resources.computeUnits if resources else None
    replicas = status.replicas
    services = status.services or []
    return Summary(
        replicas=fraction(replicas.ready, replicas.desired) if replicas else None,
        services=f"{sum(1 for s in services if s.phase is Phase.READY)}/{len(services)}"
        if services
        else None,
        gpu=fraction(gpu.used, gpu.total) if gpu else None,
        computeUnits=fraction(units.used, units.total) if units else None,
        reason=_summary_reason(status),
    )


def _summary_reason(status: CloudModelServiceStatus) -> str | None:
    for type_, bad in ((ConditionType.STALLED, "True"), (ConditionType.SYNCED, "False")):
        condition = status.condition(type_.value)
        if condition is not None and condition.status == bad and condition.reason != Reason.SUSPENDED:
            return condition.reason
    ready = status.condition(ConditionType.READY.value)
    return ready.reason if ready else None


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
    if ctx.reconcile_request is not None:
        status.lastHandledReconcileAt = ctx.reconcile_request

    if isinstance(outcome, Observed):
        obs = outcome.observation
        for name in OBSERVED_FIELDS:
            setattr(status, name, getattr(obs, name))
        status.message = redact(obs.message) if obs.message else None
        status.attributes = obs.attributes or None
        status.services = obs.services or None
        status.endpoints = obs.endpoints or None
        status.lastSyncTime = ctx.now
        status.failure = None
        status.omitted = None
    elif isinstance(outcome, FetchFailed):
        streak = previous.failure
        status.failure = Failure(
            reason=outcome.reason.value,
            errorClass=outcome.error_class,
            code=outcome.code,
            message=redact(outcome.message),
            httpStatus=outcome.http_status,
            requestId=outcome.request_id,
            secret=ctx.secret if outcome.about_credentials else None,
            since=streak.since if streak is not None else ctx.now,
            consecutiveFailures=(streak.consecutiveFailures + 1) if streak is not None else 1,
            retrying=outcome.retrying,
        )

    # A suspended resource is not polled on purpose: its last observation stands as it was.
    blind = None if isinstance(outcome, Suspended) else _blind(status, ctx)
    if (blind is not None and status.lastSyncTime is not None) or (
        isinstance(outcome, FetchFailed) and status.lastSyncTime is None
    ):
        status.phase = Phase.UNKNOWN
    status.conditions = _conditions(status, outcome, ctx, blind)
    status.summary = summary_of(status)
    return fit(status)


def _blind(status: CloudModelServiceStatus, ctx: Context) -> Reason | None:
    """Why the last observation can no longer be presented as the provider's current state."""
    failure = status.failure
    if failure is not None and not failure.retrying:
        return Reason(failure.reason)
    if status.lastSyncTime is not None and ctx.now - status.lastSyncTime > ctx.stale_after:
        return Reason.STALE_OBSERVATION
    return None


def _conditions(
    status: CloudModelServiceStatus, outcome: Outcome, ctx: Context, blind: Reason | None
) -> list[Condition]:
    conditions = list(status.conditions)
    observed = status.lastSyncTime is not None
    failure = status.failure
    terminal = failure is not None and not failure.retrying
    stale = blind is Reason.STALE_OBSERVATION

    # Synced
    if isinstance(outcome, Suspended):
        synced: tuple[ConditionStatus, Reason, str] = (
            "False", Reason.SUSPENDED, "polling is suspended by spec.suspend; the status keeps the last observation",
        )  # fmt: skip
    elif failure is not None:
        synced = ("False", Reason(failure.reason), _failure_message(failure))
    else:
        message = f"fetched {ctx.target} from {ctx.provider}"
        synced = ("True", Reason.SYNC_SUCCEEDED, f"{message}; {ctx.late_note}" if ctx.late_note else message)
    conditions = _set_condition(conditions, ConditionType.SYNCED, *synced, ctx)

    # Ready
    ready: tuple[ConditionStatus, Reason, str]
    if isinstance(outcome, Suspended) and observed:
        state, reason = PHASE_READY_REASON[status.phase]
        ready = (state, reason, f"as last observed before polling was suspended ({status.phase.value})")
    elif terminal and failure is not None:
        gone = failure.reason == Reason.NOT_FOUND
        prefix = (
            "the target does not exist at the provider" if gone else "the operator cannot read the target"
        )
        ready = ("False" if gone else "Unknown", Reason(failure.reason), f"{prefix}: {failure.message}")
    elif not observed:
        if failure is not None:
            ready = ("Unknown", Reason(failure.reason), f"nothing observed yet: {failure.message}")
        else:
            ready = ("Unknown", Reason.AWAITING_OBSERVATION, "waiting for the first fetch from the provider")
    elif stale and status.lastSyncTime is not None:
        why = (
            f"; fetching fails since {failure.since:%Y-%m-%dT%H:%M:%SZ} ({failure.reason})" if failure else ""
        )
        late = f"; {ctx.late_note}" if ctx.late_note else ""
        ready = (
            "Unknown",
            Reason.STALE_OBSERVATION,
            f"no successful fetch since {status.lastSyncTime:%Y-%m-%dT%H:%M:%SZ}{why}{late}",
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
    elif observed and status.phase is Phase.PROGRESSING and blind is None:
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
            "True",
            Reason(failure.reason),
            _failure_message(failure),
        )
    elif observed and status.phase is Phase.FAILED and failure is None and blind is None:
        stalled = ("True", Reason.FAILED, status.message or "the provider reports a failed deployment")
    elif failure is not None:
        stalled = ("False", Reason.RETRYING, "the last fetch failed and will be retried")
    else:
        stalled = ("False", Reason.STABLE, "not stalled")
    conditions = _set_condition(conditions, ConditionType.STALLED, *stalled, ctx)

    order = [t.value for t in ConditionType]
    return sorted(conditions, key=lambda c: order.index(c.type) if c.type in order else len(order))


def _failure_message(failure: Failure) -> str:
    how = "retrying every poll" if failure.retrying else "not retrying until the spec or credentials change"
    where = f" (Secret {failure.secret})" if failure.secret else ""
    return (
        f"{failure.message}{where} (failing since {failure.since:%Y-%m-%dT%H:%M:%SZ}, "
        f"{failure.consecutiveFailures} in a row; {how})"
    )


def size_of(status: CloudModelServiceStatus) -> int:
    return len(json.dumps(status.document(), separators=(",", ":")))


def fit(status: CloudModelServiceStatus, budget: int = STATUS_BUDGET_BYTES) -> CloudModelServiceStatus:
    """Trim the longest lists until the status fits its budget, and say what was left out."""
    if size_of(status) <= budget:
        return status
    omitted = status.omitted or Omitted()
    for keep in (100, 20, 5, 0):
        services = status.services or []
        if len(services) > keep:
            omitted.services = (omitted.services or 0) + len(services) - keep
            status.services = services[:keep] or None
        endpoints = status.endpoints or []
        if len(endpoints) > keep:
            omitted.endpoints = (omitted.endpoints or 0) + len(endpoints) - keep
            status.endpoints = endpoints[:keep] or None
        attributes = status.attributes or {}
        if len(attributes) > keep:
            omitted.attributes = (omitted.attributes or 0) + len(attributes) - keep
            status.attributes = dict(list(attributes.items())[:keep]) or None
        status.omitted = omitted
        if size_of(status) <= budget:
            break
    return status


# Fields that change on every fetch without saying anything new; they are written along with
# real changes or with the periodic heartbeat, never on their own.
VOLATILE = ("lastSyncTime", "requestId")


def comparable(document: dict[str, object]) -> dict[str, object]:
    """A status document without volatile fields, for deciding whether a write is needed."""
    data = {k: v for k, v in document.items() if k not in VOLATILE}
    failure = data.get("failure")
    if isinstance(failure, dict):
        failure = {k: v for k, v in failure.items() if k not in ("consecutiveFailures", "requestId")}
        data["failure"] = failure
        # Messages about the failure carry the streak count; its reason and status are what matter.
        conditions = data.get("conditions")
        if isinstance(conditions, list):
            data["conditions"] = [
                {k: v for k, v in c.items() if k != "message"}
                if isinstance(c, dict) and c.get("reason") == failure.get("reason")
                else c
                for c in conditions
            ]
    return data
