"""The watch bookkeeping: what counts as a fresh status, a status write, an awaited state."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, cast

from cloudmodel_dev.bench.documents import MARKER, stale_status
from cloudmodel_dev.bench.fleet import member
from cloudmodel_dev.bench.rows_ha import acquired_after, attribution, holders, status_managers
from cloudmodel_dev.bench.tracker import (
    Expectation,
    Seen,
    Tracker,
    fresh_since,
    missed_write_time,
    reduce,
    status_written_after,
)


def _obj(name: str, status: dict[str, Any] | None) -> dict[str, Any]:
    return {"metadata": {"name": name}, **({"status": status} if status is not None else {})}


SYNCED = {"type": "Synced", "status": "True", "reason": "ObservationSucceeded"}


def test_reduce_reads_sync_time_condition_marker_and_change() -> None:
    first = reduce(
        _obj("a", {"lastSyncTime": "2026-11-30T10:00:05Z", "conditions": [SYNCED]}), "MODIFIED", 1.0, 10, None
    )
    assert first.last_sync == 1796032805.0
    assert first.synced
    assert not first.marker
    assert first.status_changed
    same = reduce(
        _obj("a", {"lastSyncTime": "2026-11-30T10:00:05Z", "conditions": [SYNCED]}),
        "MODIFIED",
        2.0,
        10,
        first,
    )
    assert not same.status_changed  # e.g. a finalizer added: metadata only
    ours = reduce(_obj("a", {"message": MARKER}), "MODIFIED", 3.0, 10, same)
    assert ours.marker
    assert ours.status_changed
    assert ours.last_sync is None


def test_fresh_since_wants_a_successful_sync_in_or_after_the_start_second() -> None:
    start = 1796032805.7  # lastSyncTime has whole seconds
    fresh = fresh_since(start)
    synced = reduce(
        _obj("a", {"lastSyncTime": "2026-11-30T10:00:05Z", "conditions": [SYNCED]}), "MODIFIED", 0, 0, None
    )
    older = reduce(
        _obj("a", {"lastSyncTime": "2026-11-30T10:00:04Z", "conditions": [SYNCED]}), "MODIFIED", 0, 0, None
    )
    failing = reduce(
        _obj("a", {"lastSyncTime": "2026-11-30T10:00:06Z", "conditions": []}), "MODIFIED", 0, 0, None
    )
    assert fresh(synced)
    assert not fresh(older)
    assert not fresh(failing)


def _seen(name: str, t: float, *, kind: str = "MODIFIED", changed: bool = True, version: str = "") -> Seen:
    return Seen(t, name, kind, None, False, False, changed, "d", 0, version)


def test_status_written_after_ignores_our_own_and_metadata_writes() -> None:
    written = status_written_after(10.0, ours={"7"})
    assert written(_seen("a", 11.0))
    assert not written(_seen("a", 9.0))
    assert not written(_seen("a", 11.0, changed=False))
    assert not written(_seen("a", 11.0, version="7"))  # the benchmark's own write, by its version
    assert not written(_seen("a", 11.0, kind="ADDED"))


async def test_expectation_completes_when_every_name_got_there() -> None:
    expectation = Expectation({"a", "b"}, lambda s: s.t > 5)
    expectation.offer(_seen("a", 6.0))
    expectation.offer(_seen("b", 4.0))
    assert not await expectation.wait(0.01)
    expectation.offer(_seen("b", 7.0))
    expectation.offer(_seen("b", 8.0))  # only the first time counts
    assert await expectation.wait(0.01)
    assert expectation.first["b"].t == 7.0
    assert expectation.last_time() == 7.0
    assert expectation.done.is_set()
    await asyncio.sleep(0)


def test_lease_holders_and_write_attribution() -> None:
    leases = [
        {"metadata": {"name": "shard-0"}, "spec": {"holderIdentity": "x"}},
        {"metadata": {"name": "shard-1"}, "spec": {"holderIdentity": "someone-else"}},
        {"metadata": {"name": "shard-2"}, "spec": {}},
    ]
    assert holders(leases, ["x", "y"]) == {"shard-0": "x"}
    writes = [_seen("a", 1), _seen("b", 1), _seen("b", 2)]
    assert attribution(writes, ["a", "b", "c"]) == {
        "resources": 3,
        "written_once": 1,
        "written_more_than_once": 1,
        "not_written": 1,
    }


def test_status_managers_leave_out_the_benchmark() -> None:
    obj = {
        "metadata": {
            "managedFields": [
                {"manager": "cloudmodel-bench", "fieldsV1": {"f:status": {}}},
                {"manager": "replica-x", "subresource": "status", "fieldsV1": {"f:status": {"f:phase": {}}}},
                {"manager": "kubectl", "fieldsV1": {"f:spec": {}}},
            ]
        }
    }
    assert status_managers(obj) == ["replica-x"]


def test_acquired_after_reads_the_survivors_lease() -> None:
    leases = [
        {
            "metadata": {"name": "leader"},
            "spec": {"holderIdentity": "b", "acquireTime": "2026-11-30T10:00:12.500000Z"},
        },
        {
            "metadata": {"name": "other"},
            "spec": {"holderIdentity": "a", "acquireTime": "2026-11-30T10:00:30.000000Z"},
        },
    ]
    killed = datetime(2026, 11, 30, 10, 0, 0, tzinfo=UTC).timestamp()
    assert acquired_after(leases, "b", killed) == 12.5
    assert acquired_after(leases, "c", killed) is None


def test_failing_counts_current_statuses_by_reason() -> None:
    tracker = Tracker.__new__(Tracker)
    tracker.latest = {}
    failing = {"type": "Synced", "status": "False", "reason": "ProviderUnreachable"}
    for name, status in {
        "a": {"conditions": [failing]},
        "b": {"conditions": [failing]},
        "c": {"conditions": [SYNCED]},
        "d": stale_status(member(3)),  # the benchmark's stale document says Synced: not failing
        "e": None,  # no status yet
    }.items():
        tracker.latest[name] = reduce(_obj(name, status), "MODIFIED", 0, 0, None)
    assert tracker.failing(["a", "b", "c", "d", "e", "missing"]) == {"ProviderUnreachable": 2}


def test_a_missed_write_is_dated_by_its_sync_time_when_it_can_be() -> None:
    previous = _seen("a", 100.0)
    synced = Seen(130.0, "a", "MODIFIED", 120.0, True, False, True, "d", 0)
    assert missed_write_time(synced, previous, now=130.0) == 120.5
    failing = Seen(130.0, "a", "MODIFIED", None, False, False, True, "d", 0)
    assert missed_write_time(failing, previous, now=130.0) == 130.0
    older = Seen(130.0, "a", "MODIFIED", 90.0, True, False, True, "d", 0)  # its sync predates what we saw
    assert missed_write_time(older, previous, now=130.0) == 130.0


def _listed(name: str, version: str, status: dict[str, Any] | None) -> dict[str, Any]:
    obj = _obj(name, status)
    obj["metadata"]["resourceVersion"] = version
    return obj


def test_a_relist_turns_changed_versions_into_writes_in_time_order() -> None:
    tracker = Tracker(cast(Any, None))
    tracker._take_listing([_listed("a", "1", None), _listed("b", "1", None)], first=True)
    assert tracker.events == []  # the initial listing is the starting point, not writes
    tracker._on_event("MODIFIED", _listed("b", "2", {"message": "x"}), 10)
    written = {"lastSyncTime": "2001-01-01T00:00:05Z", "conditions": [SYNCED]}
    tracker._take_listing(
        [_listed("a", "2", written), _listed("b", "2", {"message": "x"}), _listed("c", "1", None)],
        first=False,
    )
    kinds = [(s.name, s.kind, s.from_relist) for s in tracker.events]
    assert ("a", "MODIFIED", True) in kinds
    assert ("c", "ADDED", True) in kinds
    assert ("b", "MODIFIED", True) not in kinds  # its version did not change: nothing missed
    assert tracker._times == sorted(tracker._times)
    assert len(tracker.status_writes(0.0)) == 2  # b's event and a's inferred write
    tracker.own_versions.add("2")  # had the benchmark written both...
    assert tracker.status_writes(0.0) == []
