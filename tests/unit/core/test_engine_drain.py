"""The engine's shutdown: passes in flight finish, no new pass starts once the drain began."""

from __future__ import annotations

import asyncio
from typing import Any

from cloudmodel_operator.engine.engine import Engine
from cloudmodel_operator.engine.reconcile import Done
from cloudmodel_operator.engine.records import Record
from cloudmodel_operator.metrics import Metrics
from cloudmodel_operator.settings import Settings


class HeldReconciler:
    """Every pass waits at a gate; records which passes started and which finished."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.started: list[str] = []
        self.finished: list[str] = []
        self.busy = asyncio.Condition()

    async def poll(self, rec: Record, *, scheduled: bool) -> Done:
        async with self.busy:
            self.started.append(rec.name)
            self.busy.notify_all()
        await self.gate.wait()
        self.finished.append(rec.name)
        return Done(3600.0)


def resource(n: int) -> dict[str, Any]:
    return {
        "metadata": {"namespace": "ns", "name": f"r{n}", "uid": f"uid-{n}", "resourceVersion": "1", "generation": 1},
        "spec": {
            "provider": "baidu-qianfan", "region": "bj", "instanceId": f"unit-{n}",
            "credentialsSecretRef": {"name": "creds"}, "pollInterval": "10s",
        },
    }  # fmt: skip


async def test_a_drain_starts_no_pass_that_was_waiting_for_a_worker() -> None:
    engine = Engine(Settings(workers=2), Metrics())
    reconciler = HeldReconciler()
    engine.reconciler = reconciler  # type: ignore[assignment]
    for n in range(10):
        engine.upsert(resource(n))
    engine.own({0})
    running = asyncio.create_task(engine.run())
    async with reconciler.busy:
        await reconciler.busy.wait_for(lambda: len(reconciler.started) == 2)
    # Two passes in flight, the other eight due and handed towards the (busy) workers.
    drained = asyncio.create_task(engine.drain(grace=5.0))
    await asyncio.sleep(0)  # let the drain take its snapshot of the passes in flight
    reconciler.gate.set()
    await drained
    await asyncio.gather(running, return_exceptions=True)
    assert reconciler.finished == reconciler.started
    assert len(reconciler.started) == 2, f"passes started during the drain: {reconciler.started[2:]}"
