"""The HA rows (leader election and sharding on Leases): run only when `cloudmodel run` has the flags.

Writes are attributed to processes three ways, reported side by side: each replica's own
counters (status writes after a fetch, and repairs of a status another client changed), the
watch (status writes per resource), and, for the verdict, a LIST at the end of every phase:
each replica writes under its own field manager, and the manager with the newest
`managedFields` time is the last writer (see `observed` and `verdict`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cloudmodel_dev.bench import fleet, snapshots, verdict
from cloudmodel_dev.bench.context import Bench
from cloudmodel_dev.bench.kubeapi import KubeError
from cloudmodel_dev.bench.observed import OPERATOR_MANAGER, Seen, is_operator
from cloudmodel_dev.bench.operator import Operator, OperatorMetrics
from cloudmodel_dev.bench.procstat import Usage
from cloudmodel_dev.bench.results import (
    FailoverRow,
    HaPhase,
    HaRow,
    ListCheck,
    ReplicaFigures,
    ShardingRow,
    WriteSpread,
)
from cloudmodel_dev.bench.rows_api import stale_pass
from cloudmodel_dev.bench.simclient import target_key
from cloudmodel_dev.bench.tracker import Expectation, fresh_since, written_after_stale

LEASE_NAMESPACE = "bench-leases"
LEASES = f"/apis/coordination.k8s.io/v1/namespaces/{LEASE_NAMESPACE}/leases"
SETTLE_S = 2.0  # after the last awaited write: a second writer's write of the same resource would land here


def holders(leases: Iterable[dict[str, Any]], identities: Iterable[str]) -> dict[str, str]:
    """Lease name -> holder, for the work Leases (not the membership ones) held by one of `identities`."""
    wanted = set(identities)
    result = {}
    for lease in leases:
        labels = (lease.get("metadata") or {}).get("labels") or {}
        if labels.get("cloudmodel.io/lease-role") == "member":
            continue  # a replica announcing itself, not a shard it owns
        holder = (lease.get("spec") or {}).get("holderIdentity")
        if holder in wanted:
            result[str(lease["metadata"]["name"])] = str(holder)
    return result


def acquired_after(leases: Iterable[dict[str, Any]], holder: str, moment: float) -> float | None:
    """Seconds from `moment` until `holder` acquired its (latest) Lease, from `spec.acquireTime`."""
    times = []
    for lease in leases:
        spec = lease.get("spec") or {}
        if spec.get("holderIdentity") == holder and spec.get("acquireTime"):
            times.append(datetime.fromisoformat(str(spec["acquireTime"])).timestamp())
    return max(times) - moment if times else None


def manager_of(identity: str) -> str:
    """The field manager a replica writes statuses under (see the operator's kube/status.py)."""
    return f"{OPERATOR_MANAGER}/{identity}"[:128]


def spread(writes: Iterable[Seen], names: Iterable[str]) -> WriteSpread:
    """Operator status writes per resource (the benchmark's own and other clients' left out)."""
    per_object = Counter(s.name for s in writes if _by_operator(s))
    wanted = list(names)
    return WriteSpread(
        written_once=sum(1 for name in wanted if per_object.get(name) == 1),
        written_more_than_once=sum(1 for name in wanted if per_object.get(name, 0) > 1),
        not_written=sum(1 for name in wanted if name not in per_object),
    )


def _by_operator(seen: Seen) -> bool:
    writer = seen.last_writer()
    return writer is None or is_operator(writer)  # None: two managers in the same second


async def _leases(bench: Bench) -> tuple[list[dict[str, Any]], str]:
    return await bench.kube.list_all(LEASES)


async def wait_leases(
    bench: Bench, predicate: Callable[[list[dict[str, Any]]], bool], within: float
) -> list[dict[str, Any]]:
    """Watch the Leases until `predicate(leases)` holds; returns the last seen set."""
    items, version = await _leases(bench)
    current = {str(i["metadata"]["name"]): i for i in items}
    if predicate(list(current.values())):
        return list(current.values())

    async def follow() -> None:
        async for kind, obj, _ in bench.kube.watch(LEASES, version):
            if kind == "BOOKMARK":
                continue
            if kind == "DELETED":
                current.pop(str(obj["metadata"]["name"]), None)
            else:
                current[str(obj["metadata"]["name"])] = obj
            if predicate(list(current.values())):
                return

    with contextlib.suppress(TimeoutError, KubeError):
        await asyncio.wait_for(follow(), timeout=within)
    return list(current.values())


def _replica(bench: Bench, identity: str, extra: list[str]) -> Operator:
    # Only the namespaces of the first `ha_size` resources: the larger sizes' resources live in others.
    scope = [arg for ns in fleet.namespaces(bench.config.ha_size) for arg in ("--namespace", ns)]
    flags = ["--identity", identity, "--lease-namespace", LEASE_NAMESPACE, *scope, *extra]
    if "--lease-duration" in bench.help_text:
        flags += ["--lease-duration", f"{bench.config.ha_lease_duration:g}s"]
    return bench.operator(f"ha-{identity}", standalone=False, extra=flags)


@dataclass
class Mark:
    """A replica's counters and usage at the start of a phase."""

    metrics: OperatorMetrics | None
    usage: Usage | None
    at: float


async def mark(replica: Operator) -> Mark:
    return Mark(await replica.metrics(), replica.proc.usage(), time.time())


def _delta(after: OperatorMetrics | None, before: OperatorMetrics | None, field: str) -> float | None:
    if after is None:
        return None
    value = float(getattr(after, field))
    return value - float(getattr(before, field)) if before is not None else value


async def figures(
    replica: Operator, identity: str, since: Mark | None, leases: list[dict[str, Any]], check: ListCheck
) -> ReplicaFigures:
    """What one replica did over a phase (from `since`, or from its start)."""
    metrics = await replica.metrics()
    usage = replica.proc.usage()
    before = since.metrics if since is not None else None
    started = since.at if since is not None else replica.proc.started
    return ReplicaFigures(
        identity=identity,
        status_writes=_delta(metrics, before, "writes"),
        repairs=_delta(metrics, before, "repairs"),
        write_failures=_delta(metrics, before, "write_failures"),
        provider_calls=_delta(metrics, before, "provider_calls"),
        shards=sum(1 for holder in holders(leases, [identity]).values() if holder == identity),
        last_writer_of=check.by_writer.get(manager_of(identity), 0),
        process=snapshots.figures(usage, since.usage if since is not None else None, time.time() - started),
    )


async def _all_polled_after(
    bench: Bench, names: list[fleet.Member], since: float, bound: float
) -> float | None:
    keys = {target_key(m.provider, m.target_id) for m in names}
    # The simulator has no push channel: its call log is read every 2 s until all are polled.
    while time.time() - since < bound:
        firsts = {
            k: t for k, t in (await bench.sim.calls(since=since)).first_after(since).items() if k in keys
        }
        if len(firsts) == len(keys):
            return max(firsts.values())
        await asyncio.sleep(2.0)
    return None


async def _await(bench: Bench, expectation: Expectation, bound: float) -> float | None:
    """Await the writes, then a settle window; the time of the last awaited write (None: not all came)."""
    done = await expectation.wait(bound)
    bench.tracker.release(expectation)
    await asyncio.sleep(SETTLE_S)
    return expectation.last_time() if done else None


def _phase_seconds(last: float | None, check: ListCheck, since: float) -> float | None:
    """From `since` to the last write: the watch's time, else the LIST's managedFields time (whole seconds)."""
    if last is not None:
        return round(last - since, 2)
    if check.written_since == check.resources and check.last_write_time is not None:
        return round(check.last_write_time + 0.5 - since, 1)
    return None


def _converged(check: ListCheck) -> bool:
    return (
        check.written_since == check.resources and check.stale_marker == 0 and check.synced == check.resources
    )


async def failover(bench: Bench, n: int) -> HaRow:
    config = bench.config
    await bench.kube.create("/api/v1/namespaces", {"metadata": {"name": LEASE_NAMESPACE}}, exist_ok=True)
    members = bench.members(n)
    names = [m.name for m in members]
    await stale_pass(bench, members, f"failover-{n}")
    identities = ("bench-a", "bench-b")
    started = time.time()
    expectation = bench.tracker.expect(names, fresh_since(started))
    replicas = {i: _replica(bench, i, []).start() for i in identities}
    last = await _await(bench, expectation, config.convergence_bound(n) + config.ha_lease_duration)
    leases = await wait_leases(
        bench, lambda ls: bool(holders(ls, identities)), 2 * config.ha_lease_duration + 30
    )
    check = await verdict.check(bench.kube, names, started)
    held = holders(leases, identities)
    if not held:
        for replica in replicas.values():
            await replica.proc.stop(kill=True)
            await replica.aclose()
        return HaRow(available=True, reason=f"no replica acquired a Lease (LIST: {check.by_writer})")
    leader = next(iter(held.values()))
    survivor = next(i for i in identities if i != leader)
    before = HaPhase(
        label="two replicas, before the kill",
        resources=n,
        converged=_converged(check),
        seconds=_phase_seconds(last, check, started),
        watch=spread(bench.tracker.status_writes(started, time.time()), names),
        checked=check,
        replicas=[await figures(replicas[i], i, None, leases, check) for i in identities],
    )
    survivor_mark = await mark(replicas[survivor])
    killed = time.time()
    await replicas[leader].proc.stop(kill=True)
    bound = 2 * config.ha_lease_duration + config.interval * (1 + config.jitter) + 30
    all_polled = await _all_polled_after(bench, members, killed, bound)
    await asyncio.sleep(SETTLE_S)
    ended = time.time()
    leases = await wait_leases(bench, lambda ls: survivor in holders(ls, identities).values(), 5)
    after_check = await verdict.check(bench.kube, names, killed, exclusive=True)
    after = await figures(replicas[survivor], survivor, survivor_mark, leases, after_check)
    writes = bench.tracker.status_writes(killed, ended)
    await replicas[survivor].proc.stop(grace=20)
    for replica in replicas.values():
        await replica.aclose()
    return HaRow(
        available=True,
        failover=FailoverRow(
            resources=n,
            lease_duration_s=config.ha_lease_duration,
            leader=leader,
            survivor=survivor,
            before=before,
            seconds_until_survivor_acquired=_round(acquired_after(leases, survivor, killed)),
            seconds_until_all_polled_by_survivor=round(all_polled - killed, 2) if all_polled else None,
            bound_s=round(bound, 1),
            writes_caused_watch=len(writes),
            written_since_kill_list=after_check.written_since,
            survivor_holds=sorted(holders(leases, identities)),
            survivor_after=after,
        ),
    )


async def sharding(bench: Bench, n: int) -> HaRow:
    config = bench.config
    await bench.kube.create("/api/v1/namespaces", {"metadata": {"name": LEASE_NAMESPACE}}, exist_ok=True)
    members = bench.members(n)
    names = [m.name for m in members]
    identities = ("bench-x", "bench-y", "bench-z")
    flags = ["--shards", str(config.shards)]
    await stale_pass(bench, members, f"sharding-{n}")
    started = time.time()
    expectation = bench.tracker.expect(names, fresh_since(started))
    replicas = {i: _replica(bench, i, flags).start() for i in identities}
    last = await _await(bench, expectation, config.convergence_bound(n) + 2 * config.ha_lease_duration)
    leases = await wait_leases(
        bench, lambda ls: len(holders(ls, identities)) >= config.shards, 2 * config.ha_lease_duration + 30
    )
    check = await verdict.check(bench.kube, names, started)
    three = HaPhase(
        label="three replicas",
        resources=n,
        converged=_converged(check),
        seconds=_phase_seconds(last, check, started),
        watch=spread(bench.tracker.status_writes(started, time.time()), names),
        checked=check,
        replicas=[await figures(r, i, None, leases, check) for i, r in replicas.items()],
    )
    row = ShardingRow(resources=n, shards=config.shards, replicas=len(identities), three=three)

    victim = identities[-1]
    survivors = [i for i in identities if i != victim]
    killed = time.time()
    await replicas[victim].proc.stop(kill=True)
    leases = await wait_leases(
        bench,
        lambda ls: (
            victim not in holders(ls, identities).values() and len(holders(ls, survivors)) >= config.shards
        ),
        3 * config.ha_lease_duration + 30,
    )
    moved = time.time()
    marks = {i: await mark(replicas[i]) for i in survivors}
    # The survivors run through the stale pass and put each status back as soon as they see it
    # changed: the phase starts before the pass, and each resource counts once its stale
    # document has been replaced.
    since = time.time()
    expectation = bench.tracker.expect(names, written_after_stale(since))
    await stale_pass(bench, members, f"sharding-after-kill-{n}")
    stale_done = time.time()
    last = await _await(bench, expectation, config.convergence_bound(n))
    leases, _ = await _leases(bench)
    check = await verdict.check(bench.kube, names, since)
    row.killed = victim
    row.seconds_until_shards_moved = round(moved - killed, 2)
    row.after_kill = HaPhase(
        label=f"after SIGKILL of {victim}",
        resources=n,
        converged=_converged(check),
        seconds=_phase_seconds(last, check, stale_done),
        stale_pass_s=round(stale_done - since, 2),
        watch=spread(bench.tracker.status_writes(since, time.time()), names),
        checked=check,
        replicas=[await figures(replicas[i], i, marks[i], leases, check) for i in survivors],
    )
    for identity in survivors:
        await replicas[identity].proc.stop(grace=20)
    for replica in replicas.values():
        await replica.aclose()
    return HaRow(available=True, sharding=row)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
