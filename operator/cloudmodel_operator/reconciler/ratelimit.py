"""A token bucket per provider account, so a fleet of resources cannot exhaust a cloud API quota."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class TokenBucket:
    """`rate` tokens per second up to `burst`; `acquire()` waits for a token and returns the wait."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._updated = clock()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    def try_acquire(self) -> float:
        """Take a token if one is there (returns 0), else the seconds until one will be."""
        self._refill()
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self.rate

    async def acquire(self) -> float:
        waited = 0.0
        async with self._lock:  # FIFO among waiters of one bucket
            while (delay := self.try_acquire()) > 0:
                await asyncio.sleep(delay)  # waiting out a rate, not an event
                waited += delay
        return waited


class RateLimiter:
    """Buckets keyed by (provider, account, endpoint), created on first use."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}

    def bucket(self, provider: str, account: str, endpoint: str) -> TokenBucket:
        key = (provider, account, endpoint)
        if key not in self._buckets:
            self._buckets[key] = TokenBucket(self.rate, self.burst)
        return self._buckets[key]
