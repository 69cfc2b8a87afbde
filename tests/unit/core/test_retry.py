"""The one retry policy: which errors are retried, how long it waits, when it gives up."""

from __future__ import annotations

import pytest

from cloudmodel_operator.providers.base import ErrorClass, ProviderError
from cloudmodel_operator.reconciler.retry import RetryPolicy


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
