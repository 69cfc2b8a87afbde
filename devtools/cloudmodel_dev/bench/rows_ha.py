"""The HA rows (leader election and sharding on Leases): run only when `cloudmodel run` has the flags.

Writes are attributed to processes three ways, reported side by side: every resource's status
writes on the watch (exactly one expected), each replica's own counters, and the field managers
in `metadata.managedFields` when replicas use distinct ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from cloudmodel_dev.bench import fleet, snapshots
from cloudmodel_dev.bench.context import Bench
from cloudmodel_dev.bench.kubeapi import KubeError, cms_path
from cloudmodel_dev.bench.operator import Operator
from cloudmodel_dev.bench.results import HaRow
from cloudmodel_dev.bench.rows_api import stale_pass
from cloudmodel_dev.bench.simclient import target_key
from cloudmodel_dev.bench.tracker import Seen

LEASE_NAMESPACE = "bench-leases"
LEASES = f"/apis/coordination.k8s.io/v1/namespaces/{LEASE_NAMESPACE}/leases"
STATUS_MANAGER_SKIP = ("cloudmodel-bench",)  # the benchmark's own writes


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


def writes_per_object(writes: Iterable[Seen]) -> Counter[str]:
    return Counter(s.name for s in writes)


def status_managers(obj: dict[str, Any]) -> list[str]:
    """Field managers that own something under `status` (the benchmark's own left out)."""
    managers = []
    for entry in obj.get("metadata", {}).get("managedFields") or []:
        fields = entry.get("fieldsV1") or {}
        if "f:status" in fields and entry.get("manager") not in STATUS_MANAGER_SKIP:
            managers.append(str(entry.get("manager")))
    return managers


def attribution(writes: list[Seen], names: list[str]) -> dict[str, object]:
    per_object = writes_per_object(writes)
    return {
        "resources": len(names),
        "written_once": sum(1 for name in names if per_object.get(name) == 1),
        "written_more_than_once": sum(1 for name in names if per_object.get(name, 0) > 1),
        "not_written": sum(1 for name in names if name not in per_object),
    }


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


async def _figures(replica: Operator, identity: str) -> dict[str, object]:
    metrics = await replica.metrics()
    usage = replica.proc.usage()
    seconds = time.time() - replica.proc.started
    return {
        "identity": identity,
        "status_writes": metrics.writes if metrics else None,
        "provider_calls": sum(metrics.requests.values()) if metrics else None,
        **snapshots.figures(usage, None, seconds).model_dump(),
    }


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


async def _settle(bench: Bench, names: list[str], since: float, bound: float) -> tuple[bool, float]:
    expectation = bench.tracker.expect(names, bench.tracker.written_after(since))
    ok = await expectation.wait(bound)
    bench.tracker.release(expectation)
    await asyncio.sleep(2.0)  # a second writer's write of the same resource would land here
    return ok, time.time()


async def failover(bench: Bench, n: int) -> HaRow:
    config = bench.config
    await bench.kube.create("/api/v1/namespaces", {"metadata": {"name": LEASE_NAMESPACE}}, exist_ok=True)
    members = bench.members(n)
    names = [m.name for m in members]
    await stale_pass(bench, members, f"failover-{n}")
    identities = ("bench-a", "bench-b")
    started = time.time()
    replicas = {i: _replica(bench, i, []).start() for i in identities}
    converged, _ = await _settle(bench, names, started, config.convergence_bound(n))
    leases = await wait_leases(
        bench, lambda ls: bool(holders(ls, identities)), 2 * config.ha_lease_duration + 30
    )
    held = holders(leases, identities)
    if not held:
        for replica in replicas.values():
            await replica.proc.stop(kill=True)
        return HaRow(available=True, reason="no replica acquired a Lease", details={"converged": converged})
    leader = next(iter(held.values()))
    survivor = next(i for i in identities if i != leader)
    before = {i: await _figures(r, i) for i, r in replicas.items()}
    killed = time.time()
    await replicas[leader].proc.stop(kill=True)
    bound = 2 * config.ha_lease_duration + config.interval * (1 + config.jitter) + 30
    all_polled = await _all_polled_after(bench, members, killed, bound)
    await asyncio.sleep(2.0)
    ended = time.time()
    leases = await wait_leases(bench, lambda ls: survivor in holders(ls, identities).values(), 5)
    after = await _figures(replicas[survivor], survivor)
    writes = bench.tracker.status_writes(killed, ended)
    await replicas[survivor].proc.stop(grace=20)
    for replica in replicas.values():
        await replica.aclose()
    return HaRow(
        available=True,
        details={
            "resources": n,
            "converged_before_kill": converged,
            "leader": leader,
            "standby_before_kill": before[survivor],
            "leader_before_kill": before[leader],
            "seconds_until_all_polled_by_survivor": round(all_polled - killed, 2) if all_polled else None,
            "bound_s": round(bound, 1),
            "writes_caused": len(writes),
            "survivor_holds": sorted(holders(leases, identities)),
            "seconds_until_survivor_acquired": _round(acquired_after(leases, survivor, killed)),
            "survivor_after": after,
        },
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
    replicas = {i: _replica(bench, i, flags).start() for i in identities}
    converged, ended = await _settle(
        bench, names, started, config.convergence_bound(n) + 2 * config.ha_lease_duration
    )
    leases = await wait_leases(
        bench, lambda ls: len(holders(ls, identities)) >= config.shards, 2 * config.ha_lease_duration + 30
    )
    first = {
        "converged": converged,
        "seconds": round(ended - started, 2),
        "shards_by_replica": dict(Counter(holders(leases, identities).values())),
        **attribution(bench.tracker.status_writes(started, ended), names),
        "replicas": [await _figures(r, i) for i, r in replicas.items()],
        "managers": await _managers(bench),
    }
    victim = identities[-1]
    killed = time.time()
    await replicas[victim].proc.stop(kill=True)
    survivors = [i for i in identities if i != victim]
    leases = await wait_leases(
        bench,
        lambda ls: (
            victim not in holders(ls, identities).values() and len(holders(ls, survivors)) >= config.shards
        ),
        3 * config.ha_lease_duration + 30,
    )
    moved = time.time()
    await stale_pass(bench, members, f"sharding-after-kill-{n}")
    restarted = time.time()
    converged_after, ended_after = await _settle(bench, names, restarted, config.convergence_bound(n))
    second = {
        "killed": victim,
        "seconds_until_shards_moved": round(moved - killed, 2),
        "converged": converged_after,
        "seconds": round(ended_after - restarted, 2),
        "shards_by_replica": dict(Counter(holders(leases, survivors).values())),
        **attribution(bench.tracker.status_writes(restarted, ended_after), names),
        "replicas": [await _figures(replicas[i], i) for i in survivors],
    }
    for identity in survivors:
        await replicas[identity].proc.stop(grace=20)
    for replica in replicas.values():
        await replica.aclose()
    return HaRow(
        available=True,
        details={"resources": n, "shards": config.shards, "three_replicas": first, "after_kill": second},
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


async def _managers(bench: Bench) -> dict[str, int]:
    """How many resources each status field manager owns part of (one manager per replica, if distinct)."""
    items, _ = await bench.kube.list_all(cms_path(None))
    counts: Counter[str] = Counter()
    for obj in items:
        counts.update(set(status_managers(obj)))
    return dict(counts)
