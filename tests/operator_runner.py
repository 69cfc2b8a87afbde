"""Runs the real operator (our Kopf registry, scheduler and workers) in a thread of the test process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import kopf

from cloudmodel_operator.app import build_registry
from cloudmodel_operator.metrics import Metrics
from cloudmodel_operator.settings import Settings


@dataclass
class RunningOperator:
    settings: Settings
    metrics: Metrics


@contextlib.contextmanager
def operator_in_thread(kubeconfig: str, settings: Settings) -> Iterator[RunningOperator]:
    os.environ["KUBECONFIG"] = kubeconfig
    metrics = Metrics()
    registry = build_registry(settings, metrics)
    ready = threading.Event()
    stop = threading.Event()
    errors: list[BaseException] = []

    def main() -> None:
        try:
            asyncio.run(
                kopf.operator(
                    registry=registry,
                    standalone=True,
                    clusterwide=True,
                    ready_flag=ready,
                    stop_flag=stop,
                )
            )
        except BaseException as exc:
            errors.append(exc)
            ready.set()

    thread = threading.Thread(target=main, name="operator", daemon=True)
    thread.start()
    if not ready.wait(timeout=60):
        raise AssertionError("the operator did not become ready in 60s")
    if errors:
        raise errors[0]
    try:
        yield RunningOperator(settings=settings, metrics=metrics)
    finally:
        stop.set()
        thread.join(timeout=30)
        if errors:
            raise errors[0]
