"""Condition types and the fixed vocabulary of reasons (documented in README "Condition reasons").

Conditions follow the Kubernetes API conventions and the kstatus rules that Flux and
`kubectl wait` rely on: `Ready` is the summary, `Reconciling` says the operator or the provider
is still converging, `Stalled` says it will not get better without a change, `Synced` says the
last fetch from the provider worked.
"""

from __future__ import annotations

from enum import StrEnum


class ConditionType(StrEnum):
    READY = "Ready"
    SYNCED = "Synced"
    RECONCILING = "Reconciling"
    STALLED = "Stalled"


class Reason(StrEnum):
    # Ready
    AVAILABLE = "Available"  # provider reports the service ready
    PROGRESSING = "Progressing"  # provider is creating, deploying, scaling, stopping...
    DEGRADED = "Degraded"  # serving, but some part is unhealthy
    FAILED = "Failed"  # provider reports a failed deployment
    STOPPED = "Stopped"  # stopped, finished or released at the provider
    UNKNOWN_STATE = "UnknownProviderState"  # a state the operator does not know
    AWAITING_OBSERVATION = "AwaitingFirstObservation"  # nothing observed yet
    STALE_OBSERVATION = "StaleObservation"  # last good observation older than the stale threshold
    # Synced (and Stalled when terminal)
    SYNC_SUCCEEDED = "ObservationSucceeded"
    PROVIDER_UNREACHABLE = "ProviderUnreachable"
    AUTHENTICATION_FAILED = "AuthenticationFailed"
    NOT_FOUND = "NotFound"
    THROTTLED = "Throttled"
    INVALID_RESPONSE = "InvalidResponse"
    PROVIDER_ERROR = "ProviderError"
    CREDENTIALS_MISSING = "CredentialsMissing"
    ENDPOINT_NOT_ALLOWED = "EndpointNotAllowed"
    SUSPENDED = "Suspended"
    INTERNAL_ERROR = "InternalError"  # the operator itself failed on this resource (a bug): retried
    STATUS_REJECTED = "StatusRejected"  # the API server refused the full status (size or schema)
    INVALID_SPEC = "InvalidSpec"  # the spec cannot be read (only when the CRD's schema was bypassed)
    # Reconciling / Stalled when nothing is wrong
    STABLE = "Stable"
    RETRYING = "Retrying"


# Every reason a condition may carry; a test keeps the README's table in step with this.
ALL_REASONS: frozenset[str] = frozenset(reason.value for reason in Reason)
