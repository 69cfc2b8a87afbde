"""One token bucket for every client-side budget: provider calls per account, Kubernetes API QPS.

Reservations work like Go's `rate.Limiter.Reserve`: taking a token never fails, it returns how
long to wait before the token is really there (the bucket may go negative by the number of
callers already waiting). Callers either sleep that long or, like the engine, put the work back
on the queue for that moment, so a slow budget shows up as lateness instead of a pile of waiting
tasks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class TokenBucket:
    """`rate` tokens per second, at most `burst` saved up."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._updated = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    def reserve(self) -> float:
        """Take a token; returns the seconds until it is really available (0 when it is now)."""
        self._refill()
        self._tokens -= 1
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def wait_time(self) -> float:
        """Seconds until a token would be available, without taking one."""
        self._refill()
        return 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate

    def give_back(self) -> None:
        """Return a reserved token that was not used (the work it was for went away)."""
        self._refill()
        self._tokens = min(float(self.burst), self._tokens + 1)

    async def acquire(self) -> float:
        """Reserve and sleep until the token is there; returns the time waited."""
        delay = self.reserve()
        if delay > 0:
            await asyncio.sleep(delay)  # waiting out a rate, not an event
        return delay
