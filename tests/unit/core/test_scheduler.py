"""One worker per resource: created on first sight, updated in place, replaced, stopped on delete."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any, cast

import pytest

from cloudmodel_operator.reconciler.scheduler import Scheduler
from cloudmodel_operator.reconciler.worker import Worker
from tests.unit.core.fakes import wait_until


class FakeWorker:
    """Runs until cancelled; records updates; exposes the bits the scheduler reads."""

    def __init__(self, namespace: str, name: str, body: dict[str, Any]) -> None:
        self.namespace = namespace
        self.name = name
        self.body = body
        self.updates: list[dict[str, Any]] = []
        self.wake = asyncio.Event()
        self.started = asyncio.Event()
        self.stopped = asyncio.Event()
        self.finish = asyncio.Event()
        self.task: asyncio.Task[Any] | None = None

    @property
    def secret_name(self) -> str | None:
        return self.body.get("spec", {}).get("credentialsSecretRef", {}).get("name")

    def update(self, body: dict[str, Any]) -> None:
        self.updates.append(body)
        self.body = body

    async def run(self) -> None:
        self.task = asyncio.current_task()
        self.started.set()
        try:
            await self.finish.wait()
        finally:
            self.stopped.set()


def resource(name: str, uid: str = "uid-1", secret: str = "creds", generation: int = 1) -> dict[str, Any]:
    return {
        "metadata": {"namespace": "ns", "name": name, "uid": uid, "generation": generation},
        "spec": {"credentialsSecretRef": {"name": secret}},
    }


class Harness:
    def __init__(self) -> None:
        self.made: list[FakeWorker] = []
        self.forgotten: list[tuple[str, str]] = []
        self.scheduler = Scheduler(self.make, on_forget=lambda ns, name: self.forgotten.append((ns, name)))

    def make(self, namespace: str, name: str, body: dict[str, Any]) -> Worker:
        worker = FakeWorker(namespace, name, body)
        self.made.append(worker)
        return cast(Worker, worker)


@pytest.fixture
def harness() -> Iterator[Harness]:
    return Harness()


async def test_a_new_resource_gets_a_running_worker(harness: Harness) -> None:
    harness.scheduler.observe("ADDED", resource("a"))
    assert len(harness.made) == 1
    await wait_until(harness.made[0].started, "the worker to run")
    assert ("ns", "a") in harness.scheduler.workers
    await harness.scheduler.shutdown()


async def test_later_versions_go_to_the_same_worker(harness: Harness) -> None:
    harness.scheduler.observe("ADDED", resource("a"))
    harness.scheduler.observe("MODIFIED", resource("a", generation=2))
    harness.scheduler.observe(None, resource("a", generation=3))  # a resume replays objects without a type
    assert len(harness.made) == 1
    assert [b["metadata"]["generation"] for b in harness.made[0].updates] == [2, 3]
    await harness.scheduler.shutdown()


async def test_deletion_stops_the_worker_and_forgets_the_resource(harness: Harness) -> None:
    harness.scheduler.observe("ADDED", resource("a"))
    worker = harness.made[0]
    await wait_until(worker.started, "the worker to run")
    harness.scheduler.observe("DELETED", resource("a"))
    await wait_until(worker.stopped, "the worker to stop")
    assert harness.scheduler.workers == {}
    assert harness.forgotten == [("ns", "a")]


async def test_a_deletion_timestamp_counts_as_deleted(harness: Harness) -> None:
    harness.scheduler.observe("ADDED", resource("a"))
    worker = harness.made[0]
    await wait_until(worker.started, "the worker to run")
    terminating = resource("a")
    terminating["metadata"]["deletionTimestamp"] = "2026-11-20T08:00:00Z"
    harness.scheduler.observe("MODIFIED", terminating)
    await wait_until(worker.stopped, "the worker to stop")
    assert harness.scheduler.workers == {}
    assert worker.updates == []


async def test_recreated_under_the_same_name_gets_a_fresh_worker(harness: Harness) -> None:
    harness.scheduler.observe("ADDED", resource("a", uid="uid-1"))
    old = harness.made[0]
    await wait_until(old.started, "the first worker to run")
    # The DELETED event was missed (watch restart); only the new uid says it is another object.
    harness.scheduler.observe("ADDED", resource("a", uid="uid-2"))
    await wait_until(old.stopped, "the old worker to stop")
    assert len(harness.made) == 2
    assert old.updates == []
    assert harness.scheduler.workers[("ns", "a")] is cast(Worker, harness.made[1])
    assert harness.forgotten == [("ns", "a")]
    await harness.scheduler.shutdown()


async def test_a_secret_change_wakes_only_the_workers_that_use_it(harness: Harness) -> None:
    harness.scheduler.observe("ADDED", resource("a", secret="creds"))
    harness.scheduler.observe("ADDED", resource("b", secret="other"))
    other_namespace = resource("c", secret="creds")
    other_namespace["metadata"]["namespace"] = "elsewhere"
    harness.scheduler.observe("ADDED", other_namespace)
    harness.scheduler.secret_changed("ns", "creds")
    assert [w.wake.is_set() for w in harness.made] == [True, False, False]
    await harness.scheduler.shutdown()


async def test_a_worker_that_returns_is_dropped(harness: Harness) -> None:
    harness.scheduler.observe("ADDED", resource("a"))
    worker = harness.made[0]
    await wait_until(worker.started, "the worker to run")
    assert worker.task is not None
    worker.finish.set()
    # The scheduler's done callback was registered before this await's, so it has run when we resume.
    await asyncio.wait_for(worker.task, 5)
    assert harness.scheduler.workers == {}
    # A later event for the same resource starts a new worker instead of updating a dead one.
    harness.scheduler.observe("MODIFIED", resource("a", generation=2))
    assert len(harness.made) == 2
    await harness.scheduler.shutdown()


async def test_shutdown_stops_every_worker(harness: Harness) -> None:
    for name in ("a", "b", "c"):
        harness.scheduler.observe("ADDED", resource(name))
    for worker in harness.made:
        await wait_until(worker.started, "every worker to run")
    await harness.scheduler.shutdown()
    assert all(w.stopped.is_set() for w in harness.made)
    assert harness.scheduler.workers == {}
