"""What every row of a run shares: the cluster, the simulator, the watch, the results so far."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cloudmodel_dev.bench import fleet, procstat
from cloudmodel_dev.bench.config import BenchConfig
from cloudmodel_dev.bench.kubeapi import Kube, cms_path
from cloudmodel_dev.bench.operator import Operator
from cloudmodel_dev.bench.results import LoadSample, Results
from cloudmodel_dev.bench.simclient import SimulatorClient
from cloudmodel_dev.bench.tracker import Tracker

RESERVED_TARGETS = 200  # targets beyond the largest size, for resources created during a run


@dataclass
class Bench:
    config: BenchConfig
    run_dir: Path
    kubeconfig: Path
    kube: Kube
    tracker: Tracker
    sim: SimulatorClient
    sim_url: str
    pids: dict[str, int]  # components measured next to the operator: kube-apiserver, etcd, simulator, bench
    results: Results
    created: int = 0  # resources 0..created-1 exist
    next_extra: int = 0
    started: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.next_extra = max((*self.config.sizes, self.config.ha_size))

    def members(self, n: int) -> list[fleet.Member]:
        return [fleet.member(i) for i in range(n)]

    def new_member(self, label: str) -> fleet.Member:
        index = self.next_extra
        self.next_extra += 1
        if index >= max((*self.config.sizes, self.config.ha_size)) + RESERVED_TARGETS:
            raise RuntimeError("out of reserved simulator targets")
        return fleet.extra_member(index, label)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def over_budget(self) -> bool:
        return self.elapsed() > self.config.budget_seconds

    def note_load(self, phase: str) -> float:
        one, five, fifteen = procstat.load_average()
        self.results.load.append(
            LoadSample(
                at=datetime.now(UTC).isoformat(timespec="seconds"),
                phase=phase,
                load1=one,
                load5=five,
                load15=fifteen,
            )
        )
        return one

    def operator(self, label: str, *, standalone: bool = True, extra: list[str] | None = None) -> Operator:
        flags = [
            "--heartbeat", self.config.heartbeat,
            "--rate-limit", str(self.config.rate_limit),
            "--rate-burst", str(self.config.rate_burst),
            *(extra or []),
        ]  # fmt: skip
        return Operator(self.kubeconfig, self.run_dir, label, flags, standalone=standalone)

    async def create(self, members: list[fleet.Member]) -> None:
        """Create resources concurrently (the API server takes them in parallel)."""
        semaphore = asyncio.Semaphore(self.config.limit_concurrency)
        path = cms_path(fleet.NAMESPACE)

        async def one(m: fleet.Member) -> None:
            async with semaphore:
                await self.kube.create(path, m.manifest(self.sim_url, self.config.interval), exist_ok=True)

        await asyncio.gather(*(one(m) for m in members))

    async def delete(self, members: list[fleet.Member]) -> None:
        await asyncio.gather(*(self.kube.delete(cms_path(fleet.NAMESPACE, m.name)) for m in members))

    def log(self, message: str) -> None:
        print(f"[{self.elapsed():7.1f}s] {message}", flush=True)
