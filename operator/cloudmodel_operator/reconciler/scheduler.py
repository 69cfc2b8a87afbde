"""Keeps one worker per CloudModelService, driven by watch events.

Watch event -> `observe()`: new resources get a worker (fetched at once), spec changes wake it,
deletion stops it (nothing is fetched after delete). Secret events wake the workers that use
that Secret. Nothing here writes to the resource or needs a finalizer.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from typing import Any

from cloudmodel_operator.reconciler.worker import Worker

logger = logging.getLogger(__name__)

Key = tuple[str, str]


class Scheduler:
    def __init__(
        self,
        make_worker: Callable[[str, str, dict[str, Any]], Worker],
        on_forget: Callable[[str, str], None] = lambda namespace, name: None,
    ) -> None:
        self._make_worker = make_worker
        self._on_forget = on_forget
        self.workers: dict[Key, Worker] = {}
        self._tasks: dict[Key, asyncio.Task[None]] = {}

    def observe(self, event_type: str | None, body: dict[str, Any]) -> None:
        meta = body.get("metadata", {})
        key = (meta.get("namespace", ""), meta.get("name", ""))
        if event_type == "DELETED" or meta.get("deletionTimestamp"):
            self.forget(key)
            return
        worker = self.workers.get(key)
        if worker is not None and worker.body.get("metadata", {}).get("uid") != meta.get("uid"):
            self.forget(key)  # deleted and re-created under the same name
            worker = None
        if worker is None:
            worker = self._make_worker(key[0], key[1], body)
            self.workers[key] = worker
            task = asyncio.create_task(worker.run(), name=f"cloudmodel:{key[0]}/{key[1]}")
            self._tasks[key] = task
            task.add_done_callback(functools.partial(self._finished, key))
        else:
            worker.update(body)

    def secret_changed(self, namespace: str, name: str) -> None:
        for (worker_namespace, _), worker in self.workers.items():
            if worker_namespace == namespace and worker.secret_name == name:
                worker.wake.set()

    def forget(self, key: Key) -> None:
        task = self._tasks.pop(key, None)
        self.workers.pop(key, None)
        if task is not None:
            task.cancel()
        self._on_forget(*key)

    def _finished(self, key: Key, task: asyncio.Task[None]) -> None:
        if self._tasks.get(key) is task:
            self._tasks.pop(key, None)
            self.workers.pop(key, None)

    async def shutdown(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self.workers.clear()
