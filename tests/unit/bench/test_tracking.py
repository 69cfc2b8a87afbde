"""The watch bookkeeping: what counts as a fresh status, a status write, an awaited state, a writer."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from cloudmodel_dev.bench.documents import MARKER, stale_status
from cloudmodel_dev.bench.fleet import member
from cloudmodel_dev.bench.observed import Seen, decode, encode, reduce
from cloudmodel_dev.bench.rows_ha import acquired_after, holders, manager_of, spread
from cloudmodel_dev.bench.tracker import (
    Expectation,
    Tracker,
    fresh_since,
    missed_write_time,
    status_written_after,
    written_after_stale,
)

SYNCED = {"type": "Synced", "status": "True", "reason": "ObservationSucceeded"}
T0 = datetime(2026, 11, 30, 10, 0, 0, tzinfo=UTC).timestamp()


def _obj(
    name: str,
    status: dict[str, Any] | None,
    *,
    version: str = "1",
    managers: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "resourceVersion": version}
    if managers is not None:
        metadata["managedFields"] = [
            {
                "manager": manager,
                "operation": "Update",
                "subresource": "status",
                "time": at,
                "fieldsV1": {"f:status": {"f:phase": {}}},
            }
            for manager, at in managers
        ]
    return {"metadata": metadata, **({"status": status} if status is not None else {})}


def test_reduce_reads_sync_time_condition_marker_and_change() -> None:
    first = reduce(
        _obj("a", {"lastSyncTime": "2026-11-30T10:00:05Z", "conditions": [SYNCED]}), "MODIFIED", 1.0, 10, None
    )
    assert first.last_sync == T0 + 5
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
    assert not same.status_changed  # e.g. a label added: metadata only
    ours = reduce(_obj("a", {"message": MARKER}), "MODIFIED", 3.0, 10, same)
    assert ours.marker
    assert ours.status_changed
    assert ours.last_sync is None


def test_the_newest_status_manager_is_the_last_writer() -> None:
    obj = _obj(
        "a",
        {"conditions": [SYNCED]},
        managers=[
            ("cloudmodel-bench", "2026-11-30T10:00:01Z"),
            ("cloudmodel-operator/x", "2026-11-30T10:00:03Z"),
            ("cloudmodel-operator/y", "2026-11-30T10:00:02Z"),
        ],
    )
    obj["metadata"]["managedFields"].append(
        {"manager": "kubectl", "time": "2026-11-30T10:00:09Z", "fieldsV1": {"f:spec": {}}}  # not the status
    )
    seen = reduce(obj, "MODIFIED", 0.0, 0, None)
    assert seen.last_writer() == "cloudmodel-operator/x"
    assert seen.operator_writers_since(T0 + 2.7) == {"cloudmodel-operator/x", "cloudmodel-operator/y"}
    assert seen.operator_writers_since(T0 + 3.0) == {"cloudmodel-operator/x"}
    assert seen.operator_writers_since(T0 + 4.0) == set()
    assert seen.operator_write_time() == T0 + 3
    tie = reduce(
        _obj(
            "b",
            {},
            managers=[
                ("cloudmodel-operator/x", "2026-11-30T10:00:03Z"),
                ("cloudmodel-operator/y", "2026-11-30T10:00:03Z"),
            ],
        ),
        "MODIFIED",
        0.0,
        0,
        None,
    )
    assert tie.last_writer() is None  # two writers in one second: managedFields cannot tell
    assert reduce(_obj("c", {}), "MODIFIED", 0.0, 0, None).last_writer() is None
    assert manager_of("bench-x") == "cloudmodel-operator/bench-x"


def test_a_seen_crosses_the_pipe_unchanged_but_for_what_the_reader_decides() -> None:
    seen = reduce(
        _obj("a", {"lastSyncTime": "2026-11-30T10:00:05Z", "conditions": [SYNCED]}, version="42",
             managers=[("cloudmodel-operator", "2026-11-30T10:00:05Z")]),
        "MODIFIED",
        T0 + 6.25,
        4321,
        None,
    )  # fmt: skip
    line = encode(seen)
    assert line.endswith(b"\n")
    assert line.count(b"\n") == 1
    assert decode(line) == seen


def test_fresh_since_wants_a_successful_sync_in_or_after_the_start_second() -> None:
    fresh = fresh_since(T0 + 5.7)  # lastSyncTime has whole seconds
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


def _seen(
    name: str,
    t: float,
    *,
    kind: str = "MODIFIED",
    changed: bool = True,
    version: str = "",
    marker: bool = False,
    synced: bool = True,
    managers: tuple[tuple[str, float], ...] = (),
    from_relist: bool = False,
) -> Seen:
    return Seen(t, name, kind, None, synced, marker, changed, "d", 0, version, None, from_relist, managers)


def test_status_written_after_ignores_our_own_and_metadata_writes() -> None:
    written = status_written_after(10.0, ours={"7"})
    assert written(_seen("a", 11.0))
    assert not written(_seen("a", 9.0))
    assert not written(_seen("a", 11.0, changed=False))
    assert not written(_seen("a", 11.0, version="7"))  # the benchmark's own write, by its version
    assert not written(_seen("a", 11.0, kind="ADDED"))


def test_written_after_stale_waits_for_the_stale_document_first() -> None:
    expectation = Expectation({"a", "b", "c"}, written_after_stale(100.0))
    expectation.offer(_seen("a", 101.0))  # an operator write before its stale document: not it
    expectation.offer(_seen("a", 102.0, marker=True))
    expectation.offer(_seen("a", 103.0, synced=False))  # not a status that says Synced
    expectation.offer(_seen("b", 102.0, marker=True))
    expectation.offer(_seen("b", 103.5))
    expectation.offer(_seen("a", 104.0))
    # Both writes of c were missed by the watch; the re-list shows an operator wrote since the start.
    expectation.offer(_seen("c", 110.0, from_relist=True, managers=(("cloudmodel-operator/x", 104.0),)))
    assert expectation.first["a"].t == 104.0
    assert expectation.first["b"].t == 103.5
    assert expectation.first["c"].t == 110.0
    assert not expectation.remaining
    stale_listing = Expectation({"d"}, written_after_stale(100.0))
    stale_listing.offer(_seen("d", 110.0, from_relist=True, managers=(("cloudmodel-operator/x", 90.0),)))
    assert stale_listing.remaining == {"d"}  # its operator write is older than the pass


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


def test_lease_holders_and_write_spread() -> None:
    leases = [
        {"metadata": {"name": "shard-0"}, "spec": {"holderIdentity": "x"}},
        {"metadata": {"name": "shard-1"}, "spec": {"holderIdentity": "someone-else"}},
        {"metadata": {"name": "shard-2"}, "spec": {}},
        {
            "metadata": {"name": "member-x", "labels": {"cloudmodel.io/lease-role": "member"}},
            "spec": {"holderIdentity": "x"},
        },
    ]
    assert holders(leases, ["x", "y"]) == {"shard-0": "x"}
    operator = (("cloudmodel-operator/x", 1.0),)
    writes = [
        _seen("a", 1, managers=operator),
        _seen("b", 1, managers=operator),
        _seen("b", 2, managers=operator),
        _seen(
            "c", 2, managers=(("cloudmodel-bench", 2.0), ("cloudmodel-operator/x", 1.0))
        ),  # not the operator
    ]
    result = spread(writes, ["a", "b", "c"])
    assert (result.written_once, result.written_more_than_once, result.not_written) == (1, 1, 1)


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
    assert acquired_after(leases, "b", T0) == 12.5
    assert acquired_after(leases, "c", T0) is None


def test_failing_counts_current_statuses_by_reason() -> None:
    tracker = Tracker()
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


def _line(name: str, kind: str, t: float, version: str, status: dict[str, Any] | None) -> bytes:
    return encode(reduce(_obj(name, status, version=version), kind, t, 0, None))


def test_lines_from_the_watch_process_become_events_and_inferred_writes() -> None:
    tracker = Tracker()
    tracker.take_line(_line("a", "LISTED", 1.0, "1", None))
    tracker.take_line(_line("b", "LISTED", 1.0, "1", None))
    tracker.take_line(json.dumps({"event": "synced", "t": 1.0}).encode())
    assert tracker.events == []  # the initial listing is the starting point, not writes
    assert tracker._synced.is_set()
    tracker.take_line(_line("b", "MODIFIED", 10.0, "2", {"message": "x"}))
    tracker.take_line(_line("b", "MODIFIED", 11.0, "3", {"message": "x"}))  # metadata only
    assert [s.status_changed for s in tracker.events] == [True, False]
    tracker.take_line(json.dumps({"event": "relist", "reason": "410 Gone", "t": 20.0}).encode())
    written = {"lastSyncTime": "2001-01-01T00:00:05Z", "conditions": [SYNCED]}
    tracker.take_line(_line("a", "RELISTED", 20.0, "2", written))
    tracker.take_line(_line("b", "RELISTED", 20.0, "3", {"message": "x"}))
    tracker.take_line(_line("c", "RELISTED", 20.0, "1", None))
    tracker.take_line(
        json.dumps({"event": "resumed", "reason": "the server ended the watch", "t": 30.0}).encode()
    )
    kinds = [(s.name, s.kind, s.from_relist) for s in tracker.events]
    assert ("a", "MODIFIED", True) in kinds
    assert ("c", "ADDED", True) in kinds
    assert ("b", "MODIFIED", True) not in kinds  # its version did not change: nothing missed
    assert len(tracker.relists) == 1
    assert len(tracker.resumes) == 1
    assert tracker._times == sorted(tracker._times)
    assert len(tracker.status_writes(0.0)) == 2  # b's first event and a's inferred write
    tracker.own_versions.add("2")  # had the benchmark written both...
    assert tracker.status_writes(0.0) == []
