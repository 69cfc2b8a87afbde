"""Runs the real operator (informers, engine, leases) in a thread of the test process."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from cloudmodel_operator.app import Operator
from cloudmodel_operator.metrics import Metrics
from cloudmodel_operator.settings import Settings


@dataclass
class RunningOperator:
    settings: Settings
    metrics: Metrics
    operator: Operator
    loop: asyncio.AbstractEventLoop = field(repr=False)

    def call(self, fn: object, *args: object) -> None:
        """Run a plain function on the operator's loop (its state is not thread-safe)."""
        self.loop.call_soon_threadsafe(fn, *args)  # type: ignore[arg-type]


@contextlib.contextmanager
def operator_in_thread(
    kubeconfig: str,
    settings: Settings,
    *,
    leases: bool = False,
    identity: str | None = None,
    synced: bool = True,
) -> Iterator[RunningOperator]:
    """Start the operator against `kubeconfig`; yields once its informers listed everything.

    It runs standalone (no leases) unless `leases` is set, and serves no health port unless
    `settings` names one explicitly, so several operators can run in one test process.
    """
    settings = replace(
        settings,
        kubeconfig=settings.kubeconfig or kubeconfig,
        standalone=settings.standalone or not leases,
        health_port=settings.health_port if settings.health_port != Settings.health_port else 0,
    )
    metrics = Metrics()
    operator = Operator(settings, metrics, **({"identity": identity} if identity else {}))
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    ready = threading.Event()
    errors: list[BaseException] = []

    background: set[asyncio.Task[None]] = set()

    async def main() -> None:
        def started() -> None:
            async def wait_synced() -> None:
                if synced:
                    await asyncio.gather(*(i.synced.wait() for i in operator.informers))
                ready.set()

            task = loop.create_task(wait_synced())
            background.add(task)
            task.add_done_callback(background.discard)

        await operator.run(stop, started)

    def thread_main() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(main())
        except BaseException as exc:
            errors.append(exc)
        finally:
            ready.set()
            loop.close()

    thread = threading.Thread(target=thread_main, name="operator", daemon=True)
    thread.start()
    if not ready.wait(timeout=60):
        raise AssertionError("the operator did not list its resources within 60s")
    if errors:
        raise errors[0]
    try:
        yield RunningOperator(settings=settings, metrics=metrics, operator=operator, loop=loop)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=30)
        if thread.is_alive():
            raise AssertionError("the operator did not stop within 30s")
        if errors:
            raise errors[0]
