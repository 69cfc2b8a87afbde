"""The one retry policy for provider calls.

Exponential backoff with full jitter; the provider's own Retry-After wins when it is longer;
auth, not-found and other permanent errors are never retried here (they are terminal until the
spec or the credentials change, and Huawei locks a key after five bad signatures). Retries live
inside the pass's deadline: a retry whose wait would end after the deadline is not attempted.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential_jitter,
)

from cloudmodel_operator.providers.base import ProviderError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    initial_backoff: float = 1.0
    max_backoff: float = 20.0
    max_retry_after: float = 60.0
    deadline: float = 90.0

    def wait_seconds(self, state: RetryCallState) -> float:
        backoff = wait_exponential_jitter(multiplier=self.initial_backoff, max=self.max_backoff)(state)
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, ProviderError) and error.retry_after is not None:
            return max(backoff, min(error.retry_after, self.max_retry_after))
        return backoff

    async def call(
        self,
        fn: Callable[[], Awaitable[T]],
        *,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        on_retry: Callable[[ProviderError, float], None] | None = None,
        within: float | None = None,
    ) -> T:
        """Call `fn`, retrying retryable provider errors; give up before `within` seconds pass."""
        started = time.monotonic()
        try:
            return await fn()  # the common case pays nothing for the retry machinery
        except ProviderError as exc:
            if not exc.retryable or self.attempts <= 1:
                raise
            first = exc
        replayed = False

        async def again() -> T:
            # Tenacity counts the failure we already had as its first attempt.
            nonlocal replayed
            if not replayed:
                replayed = True
                raise first
            return await fn()

        def before_sleep(state: RetryCallState) -> None:
            if on_retry is not None and state.outcome is not None and state.next_action is not None:
                error = state.outcome.exception()
                if isinstance(error, ProviderError):
                    on_retry(error, state.next_action.sleep)

        budget = (within if within is not None else self.deadline) - (time.monotonic() - started)
        extra: dict[str, Any] = {"sleep": sleep} if sleep is not None else {}
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.attempts) | stop_before_delay(max(budget, 0.0)),
            wait=self.wait_seconds,
            retry=retry_if_exception(lambda exc: isinstance(exc, ProviderError) and exc.retryable),
            before_sleep=before_sleep,
            reraise=True,
            **extra,
        )
        return await retrying(again)
