"""When a resource is first polled after a restart or takeover: on schedule, never in a storm."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cloudmodel_operator.engine.schedule import JITTER, first_delay, jittered

NOW = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)
INTERVAL, RECHECK, HEARTBEAT = 60.0, 600.0, 300.0


def at(seconds_ago: float) -> str:
    return (NOW - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def delay(status: dict[str, object], *, generation: int | None = 1, request: str | None = None) -> float:
    return first_delay(
        status,
        generation=generation,
        reconcile_request=request,
        interval=INTERVAL,
        terminal_recheck=RECHECK,
        heartbeat=HEARTBEAT,
        now=NOW,
    )


def test_no_status_is_polled_now() -> None:
    assert delay({}) == 0.0


def test_a_fresh_status_is_due_when_its_interval_ends() -> None:
    status = {"observedGeneration": 1, "lastSyncTime": at(20)}
    for _ in range(50):
        assert 40.0 <= delay(status) <= 40.0 + INTERVAL * JITTER


def test_a_status_within_the_heartbeat_is_spread_over_the_next_interval() -> None:
    # lastSyncTime is refreshed only on change or by the heartbeat, so 4 minutes old is normal.
    status = {"observedGeneration": 1, "lastSyncTime": at(240)}
    delays = [delay(status) for _ in range(200)]
    assert all(0.0 <= d <= INTERVAL for d in delays)
    assert max(delays) - min(delays) > INTERVAL / 2  # spread, not a storm


def test_an_old_status_is_polled_now() -> None:
    assert delay({"observedGeneration": 1, "lastSyncTime": at(HEARTBEAT + INTERVAL + 1)}) == 0.0


@pytest.mark.parametrize(
    ("status", "generation", "annotation"),
    [
        ({"observedGeneration": 1, "lastSyncTime": at(5)}, 2, None),  # spec changed while down
        ({"observedGeneration": 1, "lastSyncTime": at(5)}, 1, "2026-11-30T11:59:00Z"),  # unanswered request
        ({"observedGeneration": 1, "lastSyncTime": at(5), "lastHandledReconcileAt": "x"}, 1, "y"),
    ],
)
def test_changes_made_while_nobody_watched_are_handled_now(
    status: dict[str, object], generation: int, annotation: str | None
) -> None:
    assert delay(status, generation=generation, request=annotation) == 0.0


def test_an_answered_reconcile_request_does_not_poll_again() -> None:
    status = {"observedGeneration": 1, "lastSyncTime": at(5), "lastHandledReconcileAt": "r1"}
    assert delay(status, request="r1") > 0


def test_a_terminal_failure_keeps_its_recheck_cadence_from_when_it_began() -> None:
    failure = {"reason": "AuthenticationFailed", "retrying": False, "since": at(RECHECK * 2 + 100)}
    status = {"observedGeneration": 1, "lastSyncTime": at(5000), "failure": failure}
    # Began 2 rechecks + 100 s ago: the next recheck is 500 s away, not now (no lock-out storm).
    assert delay(status) == pytest.approx(RECHECK - 100)


def test_a_retrying_failure_follows_the_last_success() -> None:
    failure = {"reason": "ProviderUnreachable", "retrying": True, "since": at(10)}
    status = {"observedGeneration": 1, "lastSyncTime": at(30), "failure": failure}
    assert 30.0 <= delay(status) <= 30.0 + INTERVAL * JITTER


def test_jitter_stays_within_ten_percent() -> None:
    values = [jittered(100.0) for _ in range(500)]
    assert min(values) >= 90.0
    assert max(values) <= 110.0
    assert len({round(v, 3) for v in values}) > 100
