"""The operator's informer alone: `cloudmodel run` kept standby by a Lease the benchmark holds.

A replica that is not the leader lists and watches every resource (to take over quickly) and
keeps a small record of each, but never polls a provider or writes a status. Here the
benchmark itself holds the replica's Lease for an hour, so the replica stays standby; the row
reads what taking in N resources costs it (CPU from process start, imports included, and RSS
once `cloudmodel_watched_resources` says N), then what watching costs in a quiet window. It sits
next to the Kopf watch-only row: the same job, done by the operator's own informer.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from cloudmodel_dev.bench import snapshots
from cloudmodel_dev.bench.context import Bench
from cloudmodel_dev.bench.results import StandbyRow, Stop

STANDBY_NAMESPACE = "bench-standby"
LEASE_NAME = "cloudmodel-operator"  # `cloudmodel run --lease-name` default, one shard
HOLDER = "cloudmodel-bench"
HOLD_SECONDS = 3600  # longer than any run: the replica never sees it lapse


def _micro(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def held_lease() -> dict[str, object]:
    now = _micro(datetime.now(UTC))
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": LEASE_NAME, "namespace": STANDBY_NAMESPACE},
        "spec": {
            "holderIdentity": HOLDER,
            "leaseDurationSeconds": HOLD_SECONDS,
            "acquireTime": now,
            "renewTime": now,
            "leaseTransitions": 0,
        },
    }


async def hold_lease(bench: Bench) -> None:
    await bench.kube.create("/api/v1/namespaces", {"metadata": {"name": STANDBY_NAMESPACE}}, exist_ok=True)
    path = f"/apis/coordination.k8s.io/v1/namespaces/{STANDBY_NAMESPACE}/leases"
    await bench.kube.create(path, held_lease(), exist_ok=True)


async def standby(bench: Bench, n: int) -> StandbyRow:
    await hold_lease(bench)
    flags = ["--identity", "bench-standby", "--lease-namespace", STANDBY_NAMESPACE]
    replica = bench.operator(f"standby-{n}", standalone=False, extra=flags).start()
    started = replica.proc.started
    deadline = time.monotonic() + 60 + n / 50
    listed = False
    # Nothing announces "listed": its gauge is read until it says N (or the process dies).
    while not listed and time.monotonic() < deadline and replica.proc.alive():
        metrics = await replica.metrics()
        listed = metrics is not None and metrics.watched is not None and metrics.watched >= n
        if not listed:
            await asyncio.sleep(0.2)
    seconds = time.time() - started
    usage = replica.proc.usage()
    taken_in = snapshots.figures(usage, None, seconds)
    idle = None
    window = bench.config.standby_idle_seconds
    if listed:
        await asyncio.sleep(window)  # the window's length is the measurement itself
        idle = snapshots.figures(replica.proc.usage(), usage, window)
    metrics = await replica.metrics()
    stopped = await replica.proc.stop(grace=20)
    await replica.aclose()
    return StandbyRow(
        listed=listed,
        seconds=round(seconds, 2) if listed else None,
        process=taken_in,
        idle_window_s=window,
        idle=idle,
        provider_calls=metrics.provider_calls if metrics else None,
        status_writes=(metrics.writes + metrics.repairs) if metrics else None,
        stop=Stop(how=stopped.how, seconds=round(stopped.seconds, 2)),
    )
