"""The one retry policy: which errors are retried, how long it waits, when it gives up."""

from __future__ import annotations

import pytest
import tenacity
from tenacity import RetryCallState

from cloudmodel_operator.engine.retry import RetryPolicy
from cloudmodel_operator.providers.base import ErrorClass, ProviderError


class Calls:
    def __init__(self, *errors: ProviderError) -> None:
        self.errors = list(errors)
        self.count = 0
        self.sleeps: list[float] = []

    async def __call__(self) -> str:
        self.count += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def error(cls: ErrorClass, retry_after: float | None = None) -> ProviderError:
    return ProviderError(cls, cls.value, retry_after=retry_after)


@pytest.mark.parametrize("cls", [ErrorClass.TRANSIENT, ErrorClass.THROTTLED, ErrorClass.INVALID_RESPONSE])
async def test_retryable_classes_are_retried_until_success(cls: ErrorClass) -> None:
    calls = Calls(error(cls), error(cls))
    assert await RetryPolicy(attempts=3).call(calls, sleep=calls.sleep) == "ok"
    assert calls.count == 3
    assert len(calls.sleeps) == 2


@pytest.mark.parametrize("cls", [ErrorClass.AUTH, ErrorClass.NOT_FOUND, ErrorClass.PERMANENT])
async def test_terminal_classes_are_not_retried(cls: ErrorClass) -> None:
    calls = Calls(error(cls))
    with pytest.raises(ProviderError) as info:
        await RetryPolicy(attempts=5).call(calls, sleep=calls.sleep)
    assert info.value.error_class is cls
    assert (calls.count, calls.sleeps) == (1, [])


async def test_gives_up_after_the_configured_attempts_with_the_last_error() -> None:
    calls = Calls(*(error(ErrorClass.TRANSIENT) for _ in range(10)))
    with pytest.raises(ProviderError):
        await RetryPolicy(attempts=4).call(calls, sleep=calls.sleep)
    assert calls.count == 4


async def test_backoff_grows_and_stays_under_the_cap() -> None:
    calls = Calls(*(error(ErrorClass.TRANSIENT) for _ in range(6)))
    policy = RetryPolicy(attempts=7, initial_backoff=1.0, max_backoff=5.0)
    await policy.call(calls, sleep=calls.sleep)
    assert len(calls.sleeps) == 6
    assert all(0 < s <= 5.0 for s in calls.sleeps)
    assert calls.sleeps[0] >= 1.0  # exponential from `initial`, plus jitter
    assert calls.sleeps[-1] == 5.0  # capped once the exponential passes the cap


async def test_provider_retry_after_wins_when_longer_and_is_bounded() -> None:
    calls = Calls(
        error(ErrorClass.THROTTLED, retry_after=12.0), error(ErrorClass.THROTTLED, retry_after=3600)
    )
    await RetryPolicy(attempts=3, initial_backoff=0.1, max_retry_after=60).call(calls, sleep=calls.sleep)
    assert calls.sleeps == [12.0, 60.0]


async def test_on_retry_reports_each_wait() -> None:
    calls = Calls(error(ErrorClass.THROTTLED, retry_after=2.0))
    reported: list[tuple[ErrorClass, float]] = []
    await RetryPolicy().call(
        calls, sleep=calls.sleep, on_retry=lambda e, s: reported.append((e.error_class, s))
    )
    assert reported == [(ErrorClass.THROTTLED, 2.0)]


def state_after(attempt: int, exc: BaseException) -> RetryCallState:
    """The retry state tenacity hands the wait function after attempt number `attempt` failed."""
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    state.attempt_number = attempt
    state.set_exception((type(exc), exc, None))
    return state


@pytest.mark.parametrize(("attempt", "base"), [(1, 2.0), (2, 4.0), (3, 8.0), (4, 16.0), (5, 30.0), (9, 30.0)])
def test_each_wait_is_the_doubled_backoff_plus_at_most_one_second_capped(attempt: int, base: float) -> None:
    policy = RetryPolicy(initial_backoff=2.0, max_backoff=30.0)
    waits = [policy.wait_seconds(state_after(attempt, error(ErrorClass.TRANSIENT))) for _ in range(200)]
    assert all(base <= w <= min(base + 1.0, 30.0) for w in waits)
    if base < 30.0:
        assert len(set(waits)) > 1  # jittered: a fleet does not retry in lockstep


def test_a_retry_after_shorter_than_the_backoff_does_not_shorten_it() -> None:
    policy = RetryPolicy(initial_backoff=8.0, max_backoff=30.0)
    wait = policy.wait_seconds(state_after(1, error(ErrorClass.THROTTLED, retry_after=0.5)))
    assert 8.0 <= wait <= 9.0


def test_retry_after_is_honoured_beyond_the_backoff_cap_up_to_its_own_bound() -> None:
    policy = RetryPolicy(initial_backoff=1.0, max_backoff=5.0, max_retry_after=45.0)
    assert policy.wait_seconds(state_after(1, error(ErrorClass.THROTTLED, retry_after=30.0))) == 30.0
    assert policy.wait_seconds(state_after(1, error(ErrorClass.THROTTLED, retry_after=900.0))) == 45.0


async def test_the_last_error_is_the_one_raised() -> None:
    errors = [ProviderError(ErrorClass.TRANSIENT, f"failure {i}") for i in range(3)]
    calls = Calls(*errors)
    with pytest.raises(ProviderError) as info:
        await RetryPolicy(attempts=3).call(calls, sleep=calls.sleep)
    assert info.value is errors[-1]


async def test_errors_that_are_not_provider_errors_are_not_retried() -> None:
    count = 0

    async def broken() -> str:
        nonlocal count
        count += 1
        raise ValueError("a bug, not an outage")

    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    with pytest.raises(ValueError, match="a bug"):
        await RetryPolicy(attempts=5).call(broken, sleep=sleep)
    assert (count, sleeps) == (1, [])


async def test_terminal_errors_are_not_reported_as_retries() -> None:
    calls = Calls(error(ErrorClass.AUTH))
    reported: list[float] = []
    with pytest.raises(ProviderError):
        await RetryPolicy().call(calls, sleep=calls.sleep, on_retry=lambda e, s: reported.append(s))
    assert reported == []


class FakeTime:
    """Replaces the `time` module tenacity reads elapsed time from; moves only when slept."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def test_the_deadline_ends_retrying_before_the_attempts_run_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeTime()
    monkeypatch.setattr(tenacity, "time", fake)
    calls = Calls(*(error(ErrorClass.TRANSIENT) for _ in range(100)))
    policy = RetryPolicy(attempts=100, initial_backoff=4.0, max_backoff=4.0, deadline=10.0)
    with pytest.raises(ProviderError):
        await policy.call(calls, sleep=fake.sleep)
    assert calls.count < 100
    # It gives up around the deadline: not a whole wait early, not a whole wait late.
    assert 10.0 - 4.0 <= fake.now <= 10.0 + 4.0
