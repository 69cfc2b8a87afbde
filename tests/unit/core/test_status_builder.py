"""Folding fetch outcomes into the status: conditions by the Kubernetes API conventions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cloudmodel_operator.api.conditions import Reason
from cloudmodel_operator.api.observation import Observation, Phase, Replicas, Resources, Usage
from cloudmodel_operator.api.status import CloudModelServiceStatus
from cloudmodel_operator.engine.status_builder import (
    ERROR_CLASS_REASON,
    Context,
    FetchFailed,
    Observed,
    Suspended,
    build_status,
    comparable,
)

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def ctx(minutes: float = 0, generation: int = 1) -> Context:
    return Context(
        generation, "target-1", "baidu-qianfan", T0 + timedelta(minutes=minutes), timedelta(minutes=10)
    )


def seen(phase: Phase, **fields: object) -> Observed:
    return Observed(Observation(phase=phase, providerState=f"raw-{phase.value}", **fields))  # type: ignore[arg-type]


def conditions(status: CloudModelServiceStatus) -> dict[str, tuple[str, str]]:
    return {c.type: (c.status, c.reason) for c in status.conditions}


# kstatus: Ready, Reconciling and Stalled must agree for every phase.
PHASE_CONDITIONS = {
    Phase.READY: {"Ready": ("True", "Available"), "Reconciling": ("False", "Stable"), "Stalled": ("False", "Stable")},
    Phase.PROGRESSING: {"Ready": ("False", "Progressing"), "Reconciling": ("True", "Progressing"), "Stalled": ("False", "Stable")},
    Phase.DEGRADED: {"Ready": ("False", "Degraded"), "Reconciling": ("False", "Stable"), "Stalled": ("False", "Stable")},
    Phase.FAILED: {"Ready": ("False", "Failed"), "Reconciling": ("False", "Stable"), "Stalled": ("True", "Failed")},
    Phase.STOPPED: {"Ready": ("False", "Stopped"), "Reconciling": ("False", "Stable"), "Stalled": ("False", "Stable")},
    Phase.UNKNOWN: {"Ready": ("Unknown", "UnknownProviderState"), "Reconciling": ("False", "Stable"), "Stalled": ("False", "Stable")},
}  # fmt: skip


@pytest.mark.parametrize("phase", list(Phase))
def test_each_phase_gives_consistent_conditions(phase: Phase) -> None:
    status = build_status(CloudModelServiceStatus(), seen(phase), ctx())
    got = conditions(status)
    assert got["Synced"] == ("True", "ObservationSucceeded")
    assert {k: got[k] for k in ("Ready", "Reconciling", "Stalled")} == PHASE_CONDITIONS[phase]
    assert [c.type for c in status.conditions] == ["Ready", "Synced", "Reconciling", "Stalled"]
    assert all(c.observedGeneration == 1 for c in status.conditions)
    assert status.observedGeneration == 1


def test_last_transition_time_moves_only_when_the_status_flips() -> None:
    first = build_status(CloudModelServiceStatus(), seen(Phase.READY), ctx(0))
    again = build_status(first, seen(Phase.READY), ctx(5))
    flipped = build_status(again, seen(Phase.PROGRESSING), ctx(9))
    times = [
        next(c for c in s.conditions if c.type == "Ready").lastTransitionTime for s in (first, again, flipped)
    ]
    assert times == [T0, T0, T0 + timedelta(minutes=9)]


def test_a_failure_keeps_the_last_observation_and_counts_the_streak() -> None:
    good = build_status(
        CloudModelServiceStatus(),
        seen(
            Phase.READY,
            replicas=Replicas(desired=2, ready=2),
            resources=Resources(gpu=Usage(total="4", used="2")),
        ),
        ctx(0),
    )
    outage = FetchFailed(
        Reason.PROVIDER_UNREACHABLE, "cannot reach host", retrying=True, error_class="transient"
    )
    first = build_status(good, outage, ctx(1))
    second = build_status(first, outage, ctx(2))
    assert second.phase is Phase.READY
    assert second.replicas.model_dump() == {"desired": 2, "ready": 2}
    assert second.resources.gpu == Usage(total="4", used="2")
    assert second.lastSyncTime == T0
    assert second.failure is not None
    assert (second.failure.since, second.failure.consecutiveFailures, second.failure.retrying) == (
        T0 + timedelta(minutes=1), 2, True,
    )  # fmt: skip
    got = conditions(second)
    assert got["Synced"] == ("False", "ProviderUnreachable")
    assert got["Ready"] == ("True", "Available")  # not stale yet: the last observation still holds
    assert got["Stalled"] == ("False", "Retrying")
    synced = next(c for c in second.conditions if c.type == "Synced")
    assert "failing since 2026-11-20T08:01:00Z, 2 in a row; retrying every poll" in synced.message


def test_a_long_outage_makes_ready_unknown() -> None:
    good = build_status(CloudModelServiceStatus(), seen(Phase.READY), ctx(0))
    outage = FetchFailed(Reason.PROVIDER_UNREACHABLE, "down", retrying=True)
    status = build_status(good, outage, ctx(11))
    assert conditions(status)["Ready"] == ("Unknown", "StaleObservation")
    # The phase no longer claims the provider's state; the provider's own word is kept verbatim.
    assert status.phase is Phase.UNKNOWN
    assert status.providerState == good.providerState


def test_success_after_failure_clears_it() -> None:
    failed = build_status(
        CloudModelServiceStatus(), FetchFailed(Reason.THROTTLED, "slow", retrying=True), ctx(0)
    )
    recovered = build_status(failed, seen(Phase.READY), ctx(1))
    assert recovered.failure is None
    assert conditions(recovered)["Synced"] == ("True", "ObservationSucceeded")


@pytest.mark.parametrize(
    ("reason", "retrying", "ready", "stalled", "reconciling"),
    [
        (Reason.AUTHENTICATION_FAILED, False, "Unknown", "True", "False"),  # cannot see: not a guess
        (Reason.NOT_FOUND, False, "False", "True", "False"),  # gone: definitely not ready
        (Reason.CREDENTIALS_MISSING, False, "Unknown", "True", "False"),
        (Reason.PROVIDER_UNREACHABLE, True, "Unknown", "False", "True"),
        (Reason.THROTTLED, True, "Unknown", "False", "True"),
    ],
)
def test_failures_before_any_observation(
    reason: Reason, retrying: bool, ready: str, stalled: str, reconciling: str
) -> None:
    status = build_status(CloudModelServiceStatus(), FetchFailed(reason, "boom", retrying=retrying), ctx())
    got = conditions(status)
    assert got["Ready"] == (ready, reason.value)
    assert got["Stalled"][0] == stalled
    assert got["Reconciling"][0] == reconciling
    assert got["Synced"] == ("False", reason.value)


def test_every_error_class_has_a_documented_reason() -> None:
    from cloudmodel_operator.providers.base import ErrorClass

    assert set(ERROR_CLASS_REASON) == set(ErrorClass)
    assert all(
        reason.value[0].isupper() and " " not in reason.value for reason in ERROR_CLASS_REASON.values()
    )


def test_suspend_says_so_and_keeps_the_observation() -> None:
    good = build_status(CloudModelServiceStatus(), seen(Phase.READY), ctx(0))
    suspended = build_status(good, Suspended(), ctx(1))
    got = conditions(suspended)
    assert got["Synced"] == ("False", "Suspended")
    assert got["Reconciling"] == ("False", "Suspended")
    assert suspended.phase is Phase.READY


def test_summary_fractions_for_printer_columns() -> None:
    status = build_status(
        CloudModelServiceStatus(),
        seen(
            Phase.READY,
            replicas=Replicas(desired=0, ready=0),
            resources=Resources(gpu=Usage(total="4", used=None), computeUnits=Usage(total="4", used="2")),
        ),
        ctx(),
    )
    assert status.summary is not None
    assert (status.summary.replicas, status.summary.gpu, status.summary.computeUnits) == ("0/0", "-/4", "2/4")


def test_comparable_ignores_what_changes_on_every_fetch() -> None:
    first = build_status(CloudModelServiceStatus(), seen(Phase.READY, requestId="a"), ctx(0))
    second = build_status(first, seen(Phase.READY, requestId="b"), ctx(1))
    assert first.requestId != second.requestId
    assert comparable(first.document()) == comparable(second.document())
    changed = build_status(second, seen(Phase.DEGRADED), ctx(2))
    assert comparable(changed.document()) != comparable(second.document())


def test_failure_streak_growth_alone_is_not_a_change() -> None:
    outage = FetchFailed(Reason.PROVIDER_UNREACHABLE, "down", retrying=True)
    first = build_status(CloudModelServiceStatus(), outage, ctx(0))
    second = build_status(first, outage, ctx(1))
    assert comparable(first.document()) == comparable(second.document())


def test_messages_are_redacted() -> None:
    status = build_status(
        CloudModelServiceStatus(),
        FetchFailed(Reason.PROVIDER_ERROR, 'provider said {"apiKey": "sk-abcdefghijkl"}', retrying=False),
        ctx(),
    )
    assert status.failure is not None
    assert "sk-abcdefghijkl" not in status.failure.message
    assert all("sk-abcdefghijkl" not in c.message for c in status.conditions)
