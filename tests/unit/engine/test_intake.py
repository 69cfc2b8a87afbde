"""The engine's intake: what a watch event or a change of ownership does to records and the queue."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cloudmodel_operator.engine import engine as engine_module
from cloudmodel_operator.engine.engine import REPAIR_DELAY, Engine
from cloudmodel_operator.engine.reconcile import KUBE_RETRY, NotOwner
from cloudmodel_operator.engine.records import RECONCILE_ANNOTATION, digest
from cloudmodel_operator.metrics import Metrics
from cloudmodel_operator.settings import Settings

NOW = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


def obj(name: str, *, generation: int = 1, version: str = "1", status: dict[str, Any] | None = None,
        annotations: dict[str, str] | None = None, uid: str = "uid-1") -> dict[str, Any]:  # fmt: skip
    return {
        "metadata": {
            "namespace": "ns", "name": name, "uid": uid, "generation": generation, "resourceVersion": version,
            "annotations": annotations or {},
        },
        "spec": {
            "provider": "baidu-qianfan", "region": "bj", "instanceId": f"unit-{name}",
            "credentialsSecretRef": {"name": "creds"}, "pollInterval": "60s",
        },
        "status": status or {},
    }  # fmt: skip


FRESH = {
    "observedGeneration": 1,
    "phase": "Ready",
    "lastSyncTime": (NOW.replace(second=0) - (NOW - NOW)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "conditions": [],
}


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> tuple[Engine, Clock]:
    clock = Clock()
    monkeypatch.setattr(engine_module, "first_delay", lambda status, **_: 0.0 if not status else 42.0)
    return Engine(Settings(workers=4), Metrics(), clock=clock, wall=lambda: NOW), clock


def due(engine: Engine, name: str) -> float | None:
    when = engine.queue.when(("ns", name))
    return None if when is None else when - engine.clock()


def test_a_resource_in_a_shard_not_owned_is_only_remembered(engine: tuple[Engine, Clock]) -> None:
    eng, _ = engine
    eng.upsert(obj("a"))
    assert ("ns", "a") in eng.records
    assert due(eng, "a") is None
    eng.own({0})
    assert due(eng, "a") == 0.0  # no status yet: now


def test_a_resource_with_a_fresh_status_is_scheduled_not_polled_at_once(engine: tuple[Engine, Clock]) -> None:
    eng, _ = engine
    eng.own({0})
    eng.upsert(obj("a", status=FRESH))
    assert due(eng, "a") == 42.0
    assert eng.records[("ns", "a")].ours_digest == digest(FRESH)


def test_a_spec_change_polls_now_and_an_unchanged_relist_does_nothing(engine: tuple[Engine, Clock]) -> None:
    eng, _ = engine
    eng.own({0})
    eng.upsert(obj("a", status=FRESH))
    eng.upsert(obj("a", status=FRESH))  # the same version again (a relist)
    assert due(eng, "a") == 42.0
    eng.upsert(obj("a", generation=2, version="2", status=FRESH))
    assert due(eng, "a") == 0.0
    assert eng.records[("ns", "a")].woken


def test_a_reconcile_request_polls_now_past_the_cache_once(engine: tuple[Engine, Clock]) -> None:
    eng, _ = engine
    eng.own({0})
    eng.upsert(obj("a", status=FRESH))
    eng.upsert(obj("a", version="2", status=FRESH, annotations={RECONCILE_ANNOTATION: "t1"}))
    rec = eng.records[("ns", "a")]
    assert (due(eng, "a"), rec.bypass_cache, rec.reconcile_request) == (0.0, True, "t1")


def test_a_reconcile_request_the_status_already_answers_is_not_polled_again(
    engine: tuple[Engine, Clock],
) -> None:
    eng, _ = engine
    eng.own({0})
    answered = {**FRESH, "lastHandledReconcileAt": "t1"}
    eng.upsert(obj("a", status=answered, annotations={RECONCILE_ANNOTATION: "t1"}))
    assert due(eng, "a") == 42.0  # on schedule: the request was handled before a restart


def test_a_foreign_edit_is_repaired_after_a_short_delay_then_ever_more_slowly(
    engine: tuple[Engine, Clock],
) -> None:
    eng, _ = engine
    eng.own({0})
    eng.upsert(obj("a", status=FRESH))
    eng.queue.forget(("ns", "a"))
    for n in range(8):
        eng.upsert(obj("a", version=f"edit-{n}", status={**FRESH, "phase": f"Edited{n}"}))
        delay = due(eng, "a")
        eng.queue.forget(("ns", "a"))
        if n < 5:
            assert delay == REPAIR_DELAY
        else:
            assert delay is not None
            assert delay >= 10.0 * 2 ** (n - 4)  # someone keeps fighting: back off
    assert eng.records[("ns", "a")].ours_digest == digest(FRESH)  # still what the operator wants


def test_a_resource_this_replica_does_not_own_follows_the_owners_writes(engine: tuple[Engine, Clock]) -> None:
    eng, _ = engine
    eng.upsert(obj("a", status=FRESH))
    newer = {**FRESH, "phase": "Degraded"}
    eng.upsert(obj("a", version="2", status=newer))
    rec = eng.records[("ns", "a")]
    assert rec.ours_digest == digest(newer)  # a takeover continues from the owner's last word
    assert due(eng, "a") is None


def test_losing_a_shard_stops_its_work_and_gaining_it_reschedules(engine: tuple[Engine, Clock]) -> None:
    eng, _ = engine
    eng.own({0})
    eng.upsert(obj("a", status=FRESH))
    eng.own(set())
    assert due(eng, "a") is None
    assert eng.records[("ns", "a")].poll_due is None
    eng.own({0})
    assert due(eng, "a") == 42.0


def test_delete_recreate_and_relist_forget_what_is_gone(engine: tuple[Engine, Clock]) -> None:
    eng, _ = engine
    eng.own({0})
    eng.upsert(obj("a"))
    eng.upsert(obj("b"))
    eng.upsert(obj("a", uid="uid-2", version="9"))  # deleted and re-created under the same name
    assert eng.records[("ns", "a")].uid == "uid-2"
    eng.delete(obj("a", uid="uid-2"))
    assert ("ns", "a") not in eng.records
    assert due(eng, "a") is None
    eng.relist_begin("ns")
    eng.upsert(obj("c"))
    eng.relist_end("ns")
    assert sorted(eng.records) == [("ns", "c")]
    assert set(eng.by_secret[("ns", "creds")]) == {("ns", "c")}


def test_a_secret_change_wakes_the_owned_resources_that_use_it(engine: tuple[Engine, Clock]) -> None:
    eng, _ = engine
    eng.own({0})
    eng.upsert(obj("a", status=FRESH))
    eng.upsert(obj("b", status=FRESH))
    eng.secret_changed("ns", "creds")
    assert due(eng, "a") == due(eng, "b") == 0.0


def test_budget_demand_says_when_polls_must_run_late(engine: tuple[Engine, Clock]) -> None:
    eng, _ = engine
    budget = ("baidu-qianfan", "AK", "https://qianfan.baidubce.com")
    for n in range(400):
        eng.upsert(obj(f"r{n}"))
    notes = [eng.demand(eng.records[("ns", f"r{n}")], budget, 60.0) for n in range(400)]
    assert notes[299] is None  # 300 resources every 60 s need exactly the default 5 calls/s
    assert notes[-1] is not None
    assert "400 resources share one provider budget of 5 calls/s" in notes[-1]
    assert "every 80s instead of 60s" in notes[-1]
    eng.delete(obj("r0"))
    assert eng._demand_count[budget] == 399


def test_a_shard_that_comes_back_is_built_afresh_not_skipped(engine: tuple[Engine, Clock]) -> None:
    eng, _ = engine
    eng.own({0})
    eng.upsert(obj("a", status=FRESH))
    rec = eng.records[("ns", "a")]
    rec.observed_digest, rec.clean_key = b"built-from-this", (1, None, None)
    eng.own(set())  # another replica takes over and writes
    eng.upsert(obj("a", version="2", status={**FRESH, "phase": "Progressing"}))
    eng.own({0})
    assert (rec.observed_digest, rec.clean_key) == (None, None)


class RefusedForLease:
    """A reconciler whose every pass finds the shard's lease too close to expiry to write."""

    async def poll(self, rec: Any, *, scheduled: bool) -> Any:
        raise NotOwner(f"{rec.namespace}/{rec.name}")


async def test_a_pass_refused_for_a_short_lease_stays_scheduled_while_the_shard_is_owned(
    engine: tuple[Engine, Clock],
) -> None:
    eng, _ = engine
    eng.reconciler = RefusedForLease()  # type: ignore[assignment]
    eng.own({0})
    eng.upsert(obj("a"))
    rec = eng.records[("ns", "a")]
    eng.queue.forget(rec.key)  # as the worker took it
    await eng._pass(rec)
    assert due(eng, "a") == KUBE_RETRY  # renewed meanwhile: tried again, not dropped
    eng.queue.forget(rec.key)
    eng.own(set())
    await eng._pass(rec)
    assert due(eng, "a") is None  # lost: the next owner polls it
