"""One watch on every benchmark resource: what was written, when, and by whom it was written.

The watch runs in a process of its own (`watchproc`), which reads the stream and reduces each
event to a `Seen` off this process' event loop; here the `Seen` lines are taken in, timestamped
as they were on arrival there. The benchmark never asks an object for its state twice while a
row runs; phases ask for an `Expectation` (a set of names and a predicate) and await it, instead
of polling the API server. What a row concludes at its end is checked on a fresh LIST
(`verdict`), so a missed event can delay a row but never turn into a false figure.
"""

from __future__ import annotations

import asyncio
import bisect
import dataclasses
import json
import logging
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cloudmodel_dev.bench.observed import EMPTY_DIGEST, Seen, decode

logger = logging.getLogger(__name__)

WATCH_READY_WITHIN = 300.0  # seconds for the watch process' first listing (10,000+ objects on a busy machine)


def missed_write_time(seen: Seen, previous: Seen | None, now: float) -> float:
    """When a write the watch missed most likely happened.

    A status with a `lastSyncTime` after the last event we saw was written within about a second
    of it; anything else is dated at the re-list (the latest it can have been).
    """
    after = previous.t if previous is not None else 0.0
    if seen.last_sync is not None and after <= seen.last_sync <= now:
        return min(now, seen.last_sync + 0.5)
    return now


def fresh_since(since: float) -> Callable[[Seen], bool]:
    """A successful fetch written at or after `since` (lastSyncTime has whole seconds).

    The benchmark's own stale statuses say 2001, so they never count.
    """
    floor = float(int(since))
    return lambda s: s.last_sync is not None and s.last_sync >= floor and s.synced


def status_written_after(since: float, ours: set[str]) -> Callable[[Seen], bool]:
    """A status write at or after `since` by someone else than the benchmark (`ours`: its versions)."""
    return lambda s: s.kind == "MODIFIED" and s.status_changed and s.t >= since and s.version not in ours


def written_after_stale(since: float) -> Callable[[Seen], bool]:
    """A resource's status put right by an operator replica after the benchmark's stale document.

    For a stale pass made while the operator runs (it repairs each resource as soon as it sees
    the stale write, long before the pass is over). Stateful: create it before the pass starts
    (`since`); the stale write (the marker) arms a resource, the next status write without the
    marker that says Synced completes it. A re-list that found both writes missed completes it
    when an operator replica's managedFields entry changed at or after `since`.
    """
    staled: set[str] = set()

    def predicate(s: Seen) -> bool:
        if s.marker:
            staled.add(s.name)
            return False
        if not s.synced or s.kind != "MODIFIED" or not s.status_changed:
            return False
        return s.name in staled or (s.from_relist and bool(s.operator_writers_since(since)))

    return predicate


@dataclass
class Expectation:
    """Awaits `predicate` holding for every name; records when it first held for each."""

    remaining: set[str]
    predicate: Callable[[Seen], bool]
    first: dict[str, Seen] = field(default_factory=dict)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, seen: Seen) -> None:
        if seen.name in self.remaining and self.predicate(seen):
            self.remaining.discard(seen.name)
            self.first[seen.name] = seen
            if not self.remaining:
                self.done.set()

    async def wait(self, within: float) -> bool:
        """True when every name got there within `within` seconds."""
        if not self.remaining:
            return True
        try:
            await asyncio.wait_for(self.done.wait(), timeout=max(within, 0.0))
        except TimeoutError:
            return False
        return True

    def last_time(self) -> float | None:
        return max((s.t for s in self.first.values()), default=None)


class Tracker:
    def __init__(self, kubeconfig: Path | None = None, log_path: Path | None = None) -> None:
        self.kubeconfig = kubeconfig
        self.log_path = log_path
        self.events: list[Seen] = []  # in arrival order
        self._times: list[float] = []  # arrival times, for bisecting windows
        self.latest: dict[str, Seen] = {}
        self.relists: list[str] = []  # why the watch had to list again (each may hide events; reported)
        self.resumes: list[str] = []  # the watch ended and resumed from its last version (nothing missed)
        # resourceVersions of the benchmark's own writes: exact, whatever the writer leaves in a status
        self.own_versions: set[str] = set()
        self._expectations: list[Expectation] = []
        self._process: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[None] | None = None
        self._synced = asyncio.Event()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def start(self) -> None:
        """Start the watch process and wait for its first listing."""
        assert self.kubeconfig is not None
        assert self.log_path is not None
        with self.log_path.open("ab") as log:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "cloudmodel_dev.bench.watchproc", str(self.kubeconfig),
                stdout=asyncio.subprocess.PIPE, stderr=log, limit=2**22,
            )  # fmt: skip
        self._task = asyncio.create_task(self._read(), name="bench-tracker")
        synced = asyncio.ensure_future(self._synced.wait())
        await asyncio.wait(
            [synced, self._task], timeout=WATCH_READY_WITHIN, return_when=asyncio.FIRST_COMPLETED
        )
        if not self._synced.is_set():
            synced.cancel()
            raise RuntimeError(f"the benchmark's watch did not list the resources; see {self.log_path}")

    async def stop(self) -> None:
        if self._process is not None and self._process.returncode is None:
            self._process.kill()
            await self._process.wait()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _read(self) -> None:
        assert self._process is not None
        assert self._process.stdout is not None
        async for line in self._process.stdout:
            self.take_line(line)
        logger.warning("the benchmark's watch process ended; see %s", self.log_path)

    def take_line(self, line: bytes) -> None:
        if line.startswith(b"{"):
            control = json.loads(line)
            at = time.strftime("%H:%M:%S", time.localtime(float(control["t"])))
            if control["event"] == "synced":
                self._synced.set()
            elif control["event"] == "relist":
                logger.warning("the benchmark's watch lists again: %s", control["reason"])
                self.relists.append(f"{at}: {control['reason']}")
            else:
                self.resumes.append(f"{at}: {control['reason']}")
            return
        self.take(decode(line))

    def take(self, seen: Seen) -> None:
        """One reduced object from the watch process; `status_changed` is decided here."""
        previous = self.latest.get(seen.name)
        changed = previous is None or previous.digest != seen.digest
        if seen.kind == "LISTED":  # the initial listing is the starting point, not writes
            self.latest[seen.name] = seen
        elif seen.kind == "RELISTED":  # a changed resourceVersion is a write the watch missed
            if previous is None or previous.version != seen.version:
                inferred = dataclasses.replace(
                    seen,
                    kind="ADDED" if previous is None else "MODIFIED",
                    status_changed=changed,
                    from_relist=True,
                )
                self._record(dataclasses.replace(inferred, t=missed_write_time(inferred, previous, seen.t)))
        else:
            self._record(dataclasses.replace(seen, status_changed=changed))

    def _record(self, seen: Seen) -> None:
        if seen.kind == "DELETED":
            self.latest.pop(seen.name, None)
        else:
            self.latest[seen.name] = seen
        # Events stay in time order (a missed write found on a re-list may be dated earlier).
        index = bisect.bisect_right(self._times, seen.t)
        self.events.insert(index, seen)
        self._times.insert(index, seen.t)
        for expectation in self._expectations:
            expectation.offer(seen)

    def expect(
        self, names: Iterable[str], predicate: Callable[[Seen], bool], *, check_current: bool = False
    ) -> Expectation:
        """Start awaiting `predicate` for `names`; with `check_current`, the present state counts."""
        expectation = Expectation(set(names), predicate)
        if check_current:
            for name in list(expectation.remaining):
                current = self.latest.get(name)
                if current is not None:
                    expectation.offer(current)
        if not expectation.remaining:
            expectation.done.set()
        self._expectations.append(expectation)
        return expectation

    def release(self, expectation: Expectation) -> None:
        if expectation in self._expectations:
            self._expectations.remove(expectation)

    def written_after(self, since: float) -> Callable[[Seen], bool]:
        return status_written_after(since, self.own_versions)

    def failing(self, names: Iterable[str]) -> dict[str, int]:
        """Resources whose current status says fetching fails, by the Synced condition's reason."""
        reasons: Counter[str] = Counter()
        for name in names:
            seen = self.latest.get(name)
            if seen is not None and seen.digest != EMPTY_DIGEST and not seen.synced:
                reasons[seen.reason or "no Synced condition"] += 1
        return dict(reasons)

    def window(self, start: float, end: float | None = None) -> list[Seen]:
        low = bisect.bisect_left(self._times, start)
        high = len(self._times) if end is None else bisect.bisect_right(self._times, end)
        return self.events[low:high]

    def status_writes(self, start: float, end: float | None = None, *, by_others: bool = True) -> list[Seen]:
        """MODIFIED events that changed a status in the window (by_others: not the benchmark's own)."""
        return [
            s
            for s in self.window(start, end)
            if s.kind == "MODIFIED"
            and s.status_changed
            and not (by_others and s.version in self.own_versions)
        ]
