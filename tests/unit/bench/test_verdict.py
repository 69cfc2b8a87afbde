"""The LIST verdict at the end of a row: fresh, stale, and who wrote each status since the row began."""

from __future__ import annotations

from cloudmodel_dev.bench.observed import Seen
from cloudmodel_dev.bench.results import HaPhase, ListCheck, ProcessFigures, ReplicaFigures, WriteSpread
from cloudmodel_dev.bench.verdict import judge

SINCE = 1000.4


def _item(
    name: str,
    *,
    synced: bool = True,
    marker: bool = False,
    last_sync: float | None = 1001.0,
    managers: tuple[tuple[str, float], ...] = (),
) -> Seen:
    return Seen(2000.0, name, "LISTED", last_sync, synced, marker, True, "d", 0, "1", None, False, managers)


X, Y = "cloudmodel-operator/x", "cloudmodel-operator/y"


def test_judge_counts_fresh_stale_and_writers() -> None:
    items = [
        _item("a", managers=((X, 1001.0), ("cloudmodel-bench", 999.0))),
        _item("b", managers=((Y, 1003.0), (X, 900.0))),  # x wrote it long ago, y in the row
        _item("c", managers=((X, 1000.0), (Y, 1002.0))),  # both in the row (1000 is the start's second)
        _item("d", marker=True, last_sync=None, managers=(("cloudmodel-bench", 1001.0), (X, 900.0))),
        _item("e", synced=False, managers=((Y, 1004.0),)),
        _item("f", last_sync=999.0, managers=((X, 999.0),)),  # synced, but before the row
        _item("other", managers=((X, 1001.0),)),  # not one of the row's
    ]
    check = judge(items, ["a", "b", "c", "d", "e", "f", "missing"], SINCE, at=2000.0)
    assert check.resources == 7
    assert check.present == 6
    assert check.stale_marker == 1
    assert check.synced == 4  # a, b, c, f
    assert check.fresh == 3  # a, b, c
    assert check.written_since == 4  # a, b, c, e
    assert check.several_writers == 1  # c
    assert check.by_writer == {X: 1, Y: 3}  # c's last writer is y
    assert check.last_write_time == 1004.0


def test_one_writer_each_needs_every_resource_written_once_and_synced() -> None:
    def phase(check: ListCheck) -> HaPhase:
        return HaPhase(
            label="p",
            resources=check.resources,
            converged=True,
            seconds=1.0,
            watch=WriteSpread(written_once=2, written_more_than_once=0, not_written=0),
            checked=check,
            replicas=[
                ReplicaFigures(
                    identity="x",
                    status_writes=2,
                    repairs=0,
                    provider_calls=2,
                    shards=1,
                    last_writer_of=2,
                    process=ProcessFigures(cpu_seconds=1.0),
                )
            ],
        )

    good = judge(
        [_item("a", managers=((X, 1001.0),)), _item("b", managers=((Y, 1001.0),))], ["a", "b"], SINCE, 0
    )
    assert phase(good).one_writer_each
    twice = judge(
        [_item("a", managers=((X, 1001.0), (Y, 1002.0))), _item("b", managers=((Y, 1001.0),))],
        ["a", "b"],
        SINCE,
        0,
    )
    assert not phase(twice).one_writer_each
    unwritten = judge(
        [_item("a", managers=((X, 1001.0),)), _item("b", managers=((X, 10.0),))], ["a", "b"], SINCE, 0
    )
    assert not phase(unwritten).one_writer_each


def test_an_exclusive_check_charges_no_write_stamped_in_the_starting_second() -> None:
    # 1000.4 falls in second 1000: a write stamped 1000 may have come before the window.
    items = [_item("a", managers=((X, 1000.0),)), _item("b", managers=((X, 1001.0),))]
    assert judge(items, ["a", "b"], SINCE, 0).written_since == 2
    exclusive = judge(items, ["a", "b"], SINCE, 0, exclusive=True)
    assert exclusive.written_since == 1
    assert exclusive.not_written_sample == ["a"]
