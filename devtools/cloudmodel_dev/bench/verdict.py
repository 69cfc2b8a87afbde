"""What a row concludes, checked on a fresh LIST at its end: never only on what the watch delivered.

The watch times events; the LIST decides. For every resource of the row it says whether the
status still carries the benchmark's stale document, whether it says Synced, whether it is fresh
(a successful fetch at or after the row's start) and which operator replica wrote it since then,
from `metadata.managedFields` (see `observed`): the manager with the newest `time` wrote last,
and an operator manager whose `time` is at or after the row's start wrote during the row.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterable

from cloudmodel_dev.bench.kubeapi import Kube, cms_path
from cloudmodel_dev.bench.observed import Seen, reduce
from cloudmodel_dev.bench.results import ListCheck

SAMPLE = 10  # names of resources not written, for the notes


def judge(
    seen: Iterable[Seen], names: Iterable[str], since: float, at: float, *, exclusive: bool = False
) -> ListCheck:
    """The state of `names` in a listing, against a row that started at `since`.

    managedFields times are whole seconds, so a write stamped with the second `since` falls in
    may have come just before it. By default it counts (a row that awaits writes misses none);
    with `exclusive` only later seconds count (a window that must see no writes is not charged
    with one that came before it, at the price of missing one in its first second; the watch
    still sees those).
    """
    wanted = set(names)
    present = stale = synced = fresh = written = several = 0
    by_writer: Counter[str] = Counter()
    newest: float | None = None
    unwritten: list[str] = []
    floor = math.floor(since)
    after = floor + 1.0 if exclusive else since
    for s in seen:
        if s.name not in wanted:
            continue
        present += 1
        stale += s.marker
        synced += s.synced and not s.marker
        fresh += s.synced and not s.marker and s.last_sync is not None and s.last_sync >= floor
        writers = s.operator_writers_since(after)
        if not writers:
            if len(unwritten) < SAMPLE:
                unwritten.append(s.name)
            continue
        written += 1
        several += len(writers) > 1
        last = s.last_writer()
        by_writer[last if last in writers else "+".join(sorted(writers))] += 1
        write_time = s.operator_write_time()
        if write_time is not None and (newest is None or write_time > newest):
            newest = write_time
    return ListCheck(
        at=round(at, 3),
        since=round(since, 3),
        resources=len(wanted),
        present=present,
        stale_marker=stale,
        synced=synced,
        fresh=fresh,
        written_since=written,
        several_writers=several,
        by_writer=dict(sorted(by_writer.items())),
        last_write_time=newest,
        exclusive=exclusive,
        not_written_sample=sorted(unwritten),
    )


async def listing(kube: Kube) -> tuple[list[Seen], float]:
    """Every resource, LISTed page by page and reduced as it comes; and when the LIST started."""
    at = time.time()
    seen: list[Seen] = []
    async for items, _ in kube.list_pages(cms_path(None)):
        seen += [reduce(obj, "LISTED", at, 0, None) for obj in items]
    return seen, at


async def check(kube: Kube, names: Iterable[str], since: float, *, exclusive: bool = False) -> ListCheck:
    """LIST every resource and judge `names` against a row that started at `since` (see `judge`)."""
    seen, at = await listing(kube)
    return judge(seen, names, since, at, exclusive=exclusive)
