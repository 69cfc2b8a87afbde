"""Status over a sequence of fetches: transitions, generations, staleness, failure records, suspend."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from cloudmodel_operator.api.conditions import ALL_REASONS, Reason
from cloudmodel_operator.api.observation import (
    Observation,
    Phase,
    Replicas,
    Resources,
    ServiceStatus,
    Usage,
)
from cloudmodel_operator.api.status import CloudModelServiceStatus, Condition
from cloudmodel_operator.engine.status_builder import (
    Context,
    FetchFailed,
    Observed,
    Outcome,
    Suspended,
    build_status,
)
from cloudmodel_operator.redact import register_secret

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
STALE_AFTER = timedelta(minutes=3)


def at(seconds: float = 0, generation: int = 1) -> Context:
    return Context(generation, "inst-1", "alibaba-hologres", T0 + timedelta(seconds=seconds), STALE_AFTER)


def seen(phase: Phase = Phase.READY, **fields: object) -> Observed:
    return Observed(Observation(phase=phase, providerState=f"raw-{phase.value}", **fields))  # type: ignore[arg-type]


def cond(status: CloudModelServiceStatus, type_: str) -> Condition:
    found = status.condition(type_)
    assert found is not None, f"no {type_} condition"
    return found


def fold(*steps: tuple[Outcome, Context]) -> list[CloudModelServiceStatus]:
    history: list[CloudModelServiceStatus] = []
    status = CloudModelServiceStatus()
    for outcome, ctx in steps:
        status = build_status(status, outcome, ctx)
        history.append(status)
    return history


TRANSIENT = FetchFailed(
    Reason.PROVIDER_UNREACHABLE, "connect timeout", retrying=True, error_class="transient"
)
DENIED = FetchFailed(
    Reason.AUTHENTICATION_FAILED,
    "InvalidAccessKeyId.NotFound: Specified access key is not found.",
    retrying=False,
    error_class="auth",
    code="InvalidAccessKeyId.NotFound",
    http_status=404,
    request_id="req-auth-1",
)


def test_same_status_with_a_new_reason_keeps_the_transition_time() -> None:
    # API conventions: lastTransitionTime is when the status last changed, not the reason or message.
    progressing, degraded = fold((seen(Phase.PROGRESSING), at(0)), (seen(Phase.DEGRADED), at(60)))
    ready = cond(degraded, "Ready")
    assert (ready.status, ready.reason) == ("False", "Degraded")
    assert ready.lastTransitionTime == cond(progressing, "Ready").lastTransitionTime == T0


def test_only_the_condition_that_flips_gets_a_new_time() -> None:
    _, after = fold((seen(Phase.READY), at(0)), (seen(Phase.PROGRESSING), at(60)))
    times = {c.type: c.lastTransitionTime for c in after.conditions}
    assert times == {
        "Ready": T0 + timedelta(seconds=60),  # True -> False
        "Reconciling": T0 + timedelta(seconds=60),  # False -> True
        "Synced": T0,
        "Stalled": T0,
    }


def test_a_new_generation_is_recorded_everywhere_without_a_transition() -> None:
    _, after = fold((seen(Phase.READY), at(0, generation=1)), (seen(Phase.READY), at(30, generation=2)))
    assert after.observedGeneration == 2
    assert {c.observedGeneration for c in after.conditions} == {2}
    assert {c.lastTransitionTime for c in after.conditions} == {T0}


def test_the_target_shown_is_the_one_just_fetched() -> None:
    status = build_status(
        CloudModelServiceStatus(target="old-inst"),
        seen(),
        Context(1, "new-inst", "alibaba-hologres", T0, STALE_AFTER),
    )
    assert status.target == "new-inst"


def test_ready_holds_until_the_observation_is_older_than_the_threshold() -> None:
    good, at_threshold, past_threshold = fold(
        (seen(Phase.READY), at(0)),
        (TRANSIENT, at(STALE_AFTER.total_seconds())),
        (TRANSIENT, at(STALE_AFTER.total_seconds() + 1)),
    )
    assert (cond(at_threshold, "Ready").status, cond(at_threshold, "Ready").reason) == ("True", "Available")
    stale = cond(past_threshold, "Ready")
    assert (stale.status, stale.reason) == ("Unknown", "StaleObservation")
    assert "2026-11-20T08:00:00Z" in stale.message  # when the last good fetch was
    assert stale.lastTransitionTime == T0 + STALE_AFTER + timedelta(seconds=1)
    assert past_threshold.lastSyncTime == good.lastSyncTime == T0


def test_a_stale_progressing_observation_is_not_reported_as_converging() -> None:
    *_, stale = fold((seen(Phase.PROGRESSING), at(0)), (TRANSIENT, at(STALE_AFTER.total_seconds() + 1)))
    assert cond(stale, "Reconciling").status == "False"
    assert cond(stale, "Ready").status == "Unknown"


def test_recovery_from_stale_flips_ready_back_at_the_recovery_time() -> None:
    *_, recovered = fold(
        (seen(Phase.READY), at(0)),
        (TRANSIENT, at(STALE_AFTER.total_seconds() + 1)),
        (seen(Phase.READY), at(600)),
    )
    ready = cond(recovered, "Ready")
    assert (ready.status, ready.lastTransitionTime) == ("True", T0 + timedelta(seconds=600))
    assert recovered.failure is None
    assert recovered.lastSyncTime == T0 + timedelta(seconds=600)


def test_the_failure_records_what_the_provider_said() -> None:
    *_, failed = fold((seen(), at(0)), (DENIED, at(30)))
    assert failed.failure is not None
    assert failed.failure.model_dump(mode="json", exclude_none=True) == {
        "reason": "AuthenticationFailed",
        "errorClass": "auth",
        "code": "InvalidAccessKeyId.NotFound",
        "message": "InvalidAccessKeyId.NotFound: Specified access key is not found.",
        "httpStatus": 404,
        "requestId": "req-auth-1",
        "since": "2026-11-20T08:00:30Z",
        "consecutiveFailures": 1,
        "retrying": False,
    }


def test_a_success_ends_the_streak_and_the_next_failure_starts_a_new_one() -> None:
    *_, second_outage = fold(
        (TRANSIENT, at(0)),
        (TRANSIENT, at(30)),
        (seen(), at(60)),
        (TRANSIENT, at(90)),
    )
    assert second_outage.failure is not None
    assert (second_outage.failure.since, second_outage.failure.consecutiveFailures) == (
        T0 + timedelta(seconds=90),
        1,
    )


def test_a_terminal_failure_after_an_observation_stalls_and_keeps_the_observation() -> None:
    *_, denied = fold(
        (seen(Phase.READY, replicas=Replicas(desired=2, ready=2)), at(0)),
        (DENIED, at(30)),
    )
    # The observation's data is kept, but the phase no longer claims it is current.
    assert (denied.phase, denied.replicas, denied.lastSyncTime) == (
        Phase.UNKNOWN,
        Replicas(desired=2, ready=2),
        T0,
    )
    ready = cond(denied, "Ready")
    assert (ready.status, ready.reason) == ("Unknown", "AuthenticationFailed")
    stalled = cond(denied, "Stalled")
    assert (stalled.status, stalled.reason) == ("True", "AuthenticationFailed")
    assert "not retrying until the spec or credentials change" in stalled.message
    synced = cond(denied, "Synced")
    assert (synced.status, synced.reason) == ("False", "AuthenticationFailed")
    assert cond(denied, "Reconciling").status == "False"


def test_missing_credentials_after_an_observation() -> None:
    missing = FetchFailed(Reason.CREDENTIALS_MISSING, "Secret ns/creds not found", retrying=False)
    *_, status = fold((seen(), at(0)), (missing, at(30)), (missing, at(60)))
    assert status.failure is not None
    assert status.failure.errorClass is None  # not a provider error: nothing was sent
    assert (status.failure.reason, status.failure.retrying, status.failure.consecutiveFailures) == (
        "CredentialsMissing",
        False,
        2,
    )
    assert (cond(status, "Synced").status, cond(status, "Synced").reason) == ("False", "CredentialsMissing")
    assert (cond(status, "Stalled").status, cond(status, "Stalled").reason) == ("True", "CredentialsMissing")
    assert "Secret ns/creds not found" in cond(status, "Synced").message
    assert status.phase is Phase.UNKNOWN
    assert (cond(status, "Ready").status, cond(status, "Ready").reason) == ("Unknown", "CredentialsMissing")


def test_suspended_before_anything_was_observed() -> None:
    (status,) = fold((Suspended(), at(0)))
    assert status.lastSyncTime is None
    assert status.failure is None
    by_type = {c.type: (c.status, c.reason) for c in status.conditions}
    assert by_type == {
        "Ready": ("Unknown", "AwaitingFirstObservation"),
        "Synced": ("False", "Suspended"),
        "Reconciling": ("False", "Suspended"),  # nothing converges while polling is off
        "Stalled": ("False", "Stable"),
    }


def test_suspend_and_resume() -> None:
    good, suspended, resumed = fold(
        (seen(), at(0, generation=1)),
        (Suspended(), at(60, generation=2)),
        (seen(), at(120, generation=3)),
    )
    assert suspended.observedGeneration == 2
    assert suspended.lastSyncTime == good.lastSyncTime == T0  # nothing was fetched
    assert cond(suspended, "Synced").lastTransitionTime == T0 + timedelta(seconds=60)
    synced = cond(resumed, "Synced")
    assert (synced.status, synced.reason, synced.lastTransitionTime) == (
        "True",
        "ObservationSucceeded",
        T0 + timedelta(seconds=120),
    )
    assert cond(resumed, "Ready").lastTransitionTime == T0  # Ready stayed True throughout


def test_a_long_suspension_does_not_make_the_observation_stale() -> None:
    *_, suspended = fold((seen(), at(0)), (Suspended(), at(STALE_AFTER.total_seconds() * 10)))
    assert (cond(suspended, "Ready").status, cond(suspended, "Ready").reason) == ("True", "Available")


SEQUENCES: dict[str, list[Outcome]] = {
    "flapping": [seen(Phase.PROGRESSING), seen(Phase.READY), TRANSIENT, seen(Phase.DEGRADED)],
    "never-observed": [TRANSIENT, DENIED, Suspended()],
    "failed-deployment": [seen(Phase.FAILED), seen(Phase.STOPPED), seen(Phase.UNKNOWN)],
    "throttled": [FetchFailed(Reason.THROTTLED, "Throttling.User", retrying=True), seen()],
}


@pytest.mark.parametrize("name", list(SEQUENCES))
def test_conditions_stay_within_the_conventions(name: str) -> None:
    statuses = fold(*((outcome, at(60 * i)) for i, outcome in enumerate(SEQUENCES[name])))
    for status in statuses:
        assert [c.type for c in status.conditions] == ["Ready", "Synced", "Reconciling", "Stalled"]
        for c in status.conditions:
            assert c.status in ("True", "False", "Unknown")
            # A reason is a one-word CamelCase token from the documented vocabulary.
            assert c.reason in ALL_REASONS
            assert c.reason[0].isupper()
            assert c.reason.isalnum()
            assert c.message, f"{c.type} has no message"
        # kstatus: something that will not get better without a change is not also converging.
        assert not (cond(status, "Stalled").status == "True" == cond(status, "Reconciling").status)


def test_conditions_of_other_writers_are_kept_after_ours() -> None:
    foreign = Condition(type="Audited", status="True", reason="Checked", lastTransitionTime=T0)
    status = build_status(CloudModelServiceStatus(conditions=[foreign]), seen(), at(30))
    assert [c.type for c in status.conditions] == ["Ready", "Synced", "Reconciling", "Stalled", "Audited"]
    assert status.condition("Audited") == foreign


def test_ready_message_carries_the_provider_message() -> None:
    (status,) = fold((seen(Phase.DEGRADED, message="my_model: 1 replica down"), at(0)))
    assert cond(status, "Ready").message == "Degraded: my_model: 1 replica down"
    assert status.message == "my_model: 1 replica down"


def test_a_new_observation_replaces_the_previous_one_entirely() -> None:
    first, second = fold(
        (
            seen(
                services=[ServiceStatus(name="a"), ServiceStatus(name="b")],
                attributes={"zone": "cn-hangzhou-h"},
                message="all good",
            ),
            at(0),
        ),
        (seen(services=[ServiceStatus(name="a")]), at(60)),
    )
    assert [s.name for s in second.services or []] == ["a"]
    assert second.attributes is None
    assert second.message is None
    assert "attributes" not in second.document()
    assert first.attributes == {"zone": "cn-hangzhou-h"}


@pytest.mark.parametrize(
    ("replicas", "gpu", "expected"),
    [
        (Replicas(desired=2, ready=2), Usage(total="8", used="8"), ("2/2", "8/8")),
        (Replicas(desired=0, ready=0), None, ("0/0", None)),
        (Replicas(desired=2, ready=None), Usage(total="4"), ("-/2", "-/4")),
        (Replicas(), Usage(), (None, None)),
    ],
)
def test_summary_columns_read_used_over_total(
    replicas: Replicas, gpu: Usage | None, expected: tuple[str | None, str | None]
) -> None:
    (status,) = fold((seen(replicas=replicas, resources=Resources(gpu=gpu)), at(0)))
    assert status.summary is not None
    assert (status.summary.replicas, status.summary.gpu) == expected


def test_a_summary_without_values_has_only_the_reason() -> None:
    (status,) = fold((seen(), at(0)))
    assert status.document()["summary"] == {"reason": "Available"}


def test_registered_secrets_do_not_reach_status_messages() -> None:
    register_secret("unit-status-secret-0001")
    failed = FetchFailed(
        Reason.PROVIDER_ERROR, "rejected key unit-status-secret-0001", retrying=False, error_class="permanent"
    )
    good, bad = fold(
        (seen(Phase.DEGRADED, message="echo unit-status-secret-0001"), at(0)),
        (failed, at(30)),
    )
    for status in (good, bad):
        assert "unit-status-secret-0001" not in json.dumps(status.document())
