"""A keyed delay queue feeding a bounded set of workers (controller-runtime's workqueue, with due times).

- one entry per key: adding a key that is already waiting keeps the earlier due time;
- a key is never handed to two workers at once: adding it while it is being worked on marks
  it to come back when that work is done;
- one dispatcher hands due keys to at most `capacity` workers; keys that are due while every
  worker is busy wait in due order, so an overloaded engine starts work late, evenly, instead
  of piling up tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Item(Generic[K]):
    key: K
    due: float  # monotonic time the key was due


class DelayQueue(Generic[K]):
    def __init__(self, capacity: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._heap: list[tuple[float, int, K]] = []
        self._due: dict[K, float] = {}
        self._processing: set[K] = set()
        self._again: dict[K, float] = {}  # re-added while processing
        self._ready: asyncio.Queue[Item[K]] = asyncio.Queue()
        self._slots = asyncio.Semaphore(capacity)  # one per worker: a key is taken only for a free one
        self._counter = itertools.count()
        self._wakeup = asyncio.Event()
        self._closed = False

    def __len__(self) -> int:
        return len(self._due) + len(self._again)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def in_flight(self) -> int:
        return len(self._processing)

    def due_now(self) -> int:
        """How many keys are due and not yet being worked on (the backlog)."""
        now = self.clock()
        return sum(1 for due in self._due.values() if due <= now)

    def when(self, key: K) -> float | None:
        return self._due.get(key, self._again.get(key))

    def add(self, key: K, delay: float = 0.0) -> None:
        """Make `key` due in `delay` seconds, unless it is already due sooner."""
        if self._closed:
            return
        due = self.clock() + delay  # an overdue key (negative delay) goes before newer ones
        if key in self._processing:
            self._again[key] = min(due, self._again.get(key, due))
            return
        current = self._due.get(key)
        if current is not None and current <= due:
            return
        self._due[key] = due
        heapq.heappush(self._heap, (due, next(self._counter), key))
        if self._heap[0][2] == key:
            self._wakeup.set()

    def forget(self, key: K) -> None:
        """Drop the key: not due any more, and not coming back after current work."""
        self._due.pop(key, None)
        self._again.pop(key, None)

    def done(self, key: K) -> None:
        """The worker finished with `key`; if it was added meanwhile, it becomes due again."""
        if key in self._processing:
            self._processing.discard(key)
            self._slots.release()
        again = self._again.pop(key, None)
        if again is not None:
            self.add(key, again - self.clock())

    async def get(self) -> Item[K]:
        """The next due key, for a worker (which must call `done(key)` when finished)."""
        return await self._ready.get()

    async def dispatch(self) -> None:
        """Hand due keys to workers, most overdue first, never more than `capacity` at once."""
        while not self._closed:
            await self._slots.acquire()
            try:
                key, due = await self._next_due()
            except BaseException:
                self._slots.release()
                raise
            self._processing.add(key)
            self._ready.put_nowait(Item(key, due))

    async def _next_due(self) -> tuple[K, float]:
        while True:
            now = self.clock()
            while self._heap:
                due, _, key = self._heap[0]
                if self._due.get(key) != due:
                    heapq.heappop(self._heap)  # superseded by an earlier due time, or forgotten
                    continue
                if due > now:
                    break
                heapq.heappop(self._heap)
                del self._due[key]
                return key, due
            self._wakeup.clear()
            timeout = (self._heap[0][0] - now) if self._heap else None
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
            # arrives as the event fires, and the dispatcher would outlive the engine.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wakeup.wait()

    def close(self) -> None:
        """Stop handing out keys (work already handed out goes on)."""
        self._closed = True
        self._wakeup.set()
