"""One watch on every benchmark resource: what was written, when, and by whom it was written.

The benchmark never asks an object for its state twice; everything it knows about writes comes
from this watch (events are timestamped on arrival). Phases ask for an `Expectation` (a set of
names and a predicate) and await it, instead of polling the API server.
"""

from __future__ import annotations

import asyncio
import bisect
import dataclasses
import hashlib
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from cloudmodel_dev.bench.documents import MARKER
from cloudmodel_dev.bench.kubeapi import Kube, KubeError, cms_path

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Seen:
    """One watch event (or the initial listing) of one object, reduced to what the phases need."""

    t: float  # when it arrived (epoch seconds)
    name: str
    kind: str  # ADDED, MODIFIED, DELETED or LISTED
    last_sync: float | None  # status.lastSyncTime, epoch seconds
    synced: bool  # condition Synced is True
    marker: bool  # the status carries the benchmark's marker message (its stale document)
    status_changed: bool  # the status differs from the previous event's (a status write)
    digest: str
    size: int
    version: str = ""  # metadata.resourceVersion
    reason: str | None = None  # the Synced condition's reason (why fetching fails, when it does)
    from_relist: bool = False  # inferred on a re-list: the watch missed the event itself


def _digest(status: dict[str, Any]) -> str:
    # The API server returns a stored object's fields in a stable order, so equal statuses give
    # equal text without sorting (a writer reordering keys is a write anyway).
    return hashlib.blake2b(json.dumps(status).encode(), digest_size=8).hexdigest()


EMPTY_DIGEST = _digest({})


def _epoch(text: Any) -> float | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def reduce(
    obj: dict[str, Any], kind: str, t: float, size: int, previous: Seen | None, *, from_relist: bool = False
) -> Seen:
    status = obj.get("status") or {}
    digest = _digest(status)
    conditions: list[dict[str, Any]] = status.get("conditions") or []
    synced_condition: dict[str, Any] = next((c for c in conditions if c.get("type") == "Synced"), {})
    synced = synced_condition.get("status") == "True"
    return Seen(
        t=t,
        name=str(obj["metadata"]["name"]),
        kind=kind,
        last_sync=_epoch(status.get("lastSyncTime")),
        synced=synced,
        marker=status.get("message") == MARKER,
        status_changed=previous is None or previous.digest != digest,
        digest=digest,
        size=size,
        version=str(obj["metadata"].get("resourceVersion", "")),
        reason=synced_condition.get("reason"),
        from_relist=from_relist,
    )


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
    def __init__(self, kube: Kube) -> None:
        self.kube = kube
        self.events: list[Seen] = []  # in arrival order
        self._times: list[float] = []  # arrival times, for bisecting windows
        self.latest: dict[str, Seen] = {}
        self.relists: list[str] = []
        # resourceVersions of the benchmark's own writes: exact, whatever the writer leaves in a status
        self.own_versions: set[str] = (
            set()
        )  # why the watch had to list again (each may hide events; reported)
        self._expectations: list[Expectation] = []
        self._task: asyncio.Task[None] | None = None
        self._synced = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="bench-tracker")
        await self._synced.wait()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        path = cms_path(None)  # every namespace: resource names are unique across them
        first = True
        while True:
            items, version = await self.kube.list_all(path)
            self._take_listing(items, first)
            first = False
            self._synced.set()
            try:
                async for kind, obj, size in self.kube.watch(path, version):
                    if kind == "BOOKMARK":
                        continue
                    if kind == "ERROR":
                        raise KubeError(int(obj.get("code", 500)), str(obj.get("message")))
                    self._on_event(kind, obj, size)
                reason = "the server ended the watch"
            except (KubeError, OSError, httpx.HTTPError) as exc:
                reason = repr(exc)
            logger.warning("the benchmark's watch ended (%s); listing again", reason)
            self.relists.append(f"{time.strftime('%H:%M:%S')}: {reason}")

    def _take_listing(self, items: list[dict[str, Any]], first: bool) -> None:
        """The initial listing, or a re-list: a changed resourceVersion is a write the watch missed."""
        now = time.time()
        for obj in items:
            name = str(obj["metadata"]["name"])
            previous = self.latest.get(name)
            if first:
                self.latest[name] = reduce(obj, "LISTED", now, 0, previous)
            elif previous is None or previous.version != obj["metadata"].get("resourceVersion"):
                kind = "ADDED" if previous is None else "MODIFIED"
                seen = reduce(obj, kind, now, 0, previous, from_relist=True)
                self._record(dataclasses.replace(seen, t=missed_write_time(seen, previous, now)))

    def _on_event(self, kind: str, obj: dict[str, Any], size: int) -> None:
        name = str(obj["metadata"]["name"])
        self._record(reduce(obj, kind, time.time(), size, self.latest.get(name)))

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
