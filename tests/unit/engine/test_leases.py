"""Lease semantics on a fake clock: client-go's rules for taking, holding and losing a Lease."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from cloudmodel_operator.ha.leases import LeaseLock
from cloudmodel_operator.ha.shards import ShardManager
from cloudmodel_operator.kube.client import Conflict, NotFound


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class FakeLeases:
    """A Lease store with optimistic concurrency, like the API server's."""

    def __init__(self) -> None:
        self.objects: dict[str, dict[str, Any]] = {}
        self.version = 0

    def _bump(self, body: dict[str, Any]) -> dict[str, Any]:
        self.version += 1
        stored = copy.deepcopy(body)
        stored["metadata"]["resourceVersion"] = str(self.version)
        self.objects[stored["metadata"]["name"]] = stored
        return copy.deepcopy(stored)

    async def get(self, path: str, **_: Any) -> dict[str, Any]:
        name = path.rsplit("/", 1)[1]
        if name not in self.objects:
            raise NotFound(404, "NotFound", name)
        return copy.deepcopy(self.objects[name])

    async def create(self, path: str, body: dict[str, Any], **_: Any) -> dict[str, Any]:
        if body["metadata"]["name"] in self.objects:
            raise Conflict(409, "AlreadyExists", "exists")
        return self._bump(body)

    async def update(self, path: str, body: dict[str, Any], **_: Any) -> dict[str, Any]:
        current = self.objects[body["metadata"]["name"]]
        if body["metadata"].get("resourceVersion") != current["metadata"]["resourceVersion"]:
            raise Conflict(409, "Conflict", "the object has been modified")
        return self._bump(body)


def lock(api: FakeLeases, identity: str, clock: Clock) -> LeaseLock:
    return LeaseLock(api, "ops", "leader", identity, duration=15, renew_deadline=10, clock=clock)  # type: ignore[arg-type]


async def step(candidate: LeaseLock) -> bool:
    await candidate.read()
    await candidate.try_acquire_or_renew()
    return candidate.held


async def test_the_first_replica_takes_it_and_the_second_waits() -> None:
    api, clock = FakeLeases(), Clock()
    a, b = lock(api, "a", clock), lock(api, "b", clock)
    assert await step(a)
    assert not await step(b)
    assert api.objects["leader"]["spec"]["holderIdentity"] == "a"


async def test_a_standby_takes_over_only_after_it_saw_no_renewal_for_a_lease_duration() -> None:
    api, clock = FakeLeases(), Clock()
    a, b = lock(api, "a", clock), lock(api, "b", clock)
    await step(a)
    await step(b)  # b observes a's record now
    clock.now += 14.9
    assert not await step(b)  # not yet: 14.9 s without change as b saw it
    clock.now += 0.2
    assert await step(b)
    spec = api.objects["leader"]["spec"]
    assert (spec["holderIdentity"], spec["leaseTransitions"]) == ("b", 1)


async def test_renewals_keep_it_and_the_holder_stops_at_its_renew_deadline() -> None:
    api, clock = FakeLeases(), Clock()
    a, b = lock(api, "a", clock), lock(api, "b", clock)
    await step(a)
    for _ in range(10):
        clock.now += 2
        assert await step(a)
        assert not await step(b)
    assert a.authority() == pytest.approx(10.0)
    clock.now += 9.9  # renewals now fail (say the API server is gone)
    assert a.held
    clock.now += 0.2
    assert not a.held  # stopped at 10 s, before anybody may take it at 15 s


async def test_two_replicas_racing_for_a_free_lease_cannot_both_win() -> None:
    api, clock = FakeLeases(), Clock()
    a, b = lock(api, "a", clock), lock(api, "b", clock)
    await a.read()
    await b.read()  # both saw no Lease
    won = [await a.try_acquire_or_renew(), await b.try_acquire_or_renew()]
    assert won == [True, False]


async def test_release_hands_over_at_once() -> None:
    api, clock = FakeLeases(), Clock()
    a, b = lock(api, "a", clock), lock(api, "b", clock)
    await step(a)
    await step(b)
    await a.release()
    assert not a.held
    assert await step(b)  # no waiting out the lease


def manager(api: FakeLeases, identity: str, clock: Clock, shards: int = 6) -> ShardManager:
    return ShardManager(
        api,  # type: ignore[arg-type]
        namespace="ops", lease_name="set", identity=identity, shards=shards,
        lease_duration=15, renew_deadline=10, retry_period=2, own=lambda owned: None, clock=clock,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("holding", "me", "expected"),
    [
        ({"a": 2, "b": 2, "c": 2}, "a", 2),  # even: two each
        ({"a": 2, "b": 2, "c": 2, "d": 0}, "d", 1),  # a fourth replica gets one ...
        ({"a": 2, "b": 2, "c": 2, "d": 0}, "c", 1),  # ... from one of those holding the most
        ({"a": 2, "b": 2, "c": 2, "d": 0}, "a", 2),
        ({"a": 3, "b": 3}, "b", 3),  # a replica died: three each
        ({"a": 6}, "a", 6),
        ({"a": 0, "b": 0, "c": 0, "d": 0, "e": 0, "f": 0, "g": 0}, "g", 0),  # more replicas than shards
    ],
)
def test_fair_share_goes_to_those_already_holding_most(
    holding: dict[str, int], me: str, expected: int
) -> None:
    api, clock = FakeLeases(), Clock()
    shards = manager(api, me, clock)
    shard = 0
    for holder, count in holding.items():
        for _ in range(count):
            shards.locks[shard].observe({"metadata": {"resourceVersion": "1"}, "spec": {
                "holderIdentity": holder, "leaseDurationSeconds": 15, "renewTime": "t"}})  # fmt: skip
            shard += 1
    quota = shards._quota(sorted(holding))
    assert quota == expected
    assert sum(manager(api, m, clock)._quota(sorted(holding)) for m in holding) <= 6


def test_a_shard_count_of_one_is_plain_leader_election_on_one_lease() -> None:
    shards = manager(FakeLeases(), "a", Clock(), shards=1)
    assert shards.shard_lease(0) == "set"
    assert shards.member is None
    assert manager(FakeLeases(), "a", Clock(), shards=3).shard_lease(2) == "set-shard-2"
