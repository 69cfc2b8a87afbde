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
    warmed: bool = False  # the API server has taken writes of this CRD already
    help_text: str = ""  # `cloudmodel run --help`: which optional flags this build has
    namespaces: set[str] = field(default_factory=set)
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

    def operator(
        self,
        label: str,
        *,
        standalone: bool = True,
        extra: list[str] | None = None,
        raise_kube_budget: bool = True,
    ) -> Operator:
        """`cloudmodel run` with the benchmark's flags; `raise_kube_budget=False` keeps its default QPS/burst."""
        raise_kube = raise_kube_budget and "--kube-qps" in self.help_text
        flags = [
            "--heartbeat", self.config.heartbeat,
            "--rate-limit", str(self.config.rate_limit),
            "--rate-burst", str(self.config.rate_burst),
            *(["--kube-qps", str(self.config.kube_qps), "--kube-burst", str(self.config.kube_burst)]
              if raise_kube else []),
            *(extra or []),
        ]  # fmt: skip
        return Operator(self.kubeconfig, self.run_dir, label, flags, standalone=standalone)

    async def ensure_namespace(self, namespace: str) -> None:
        """The namespace and its team's four credentials Secrets, once."""
        if namespace in self.namespaces:
            return
        await self.kube.create("/api/v1/namespaces", {"metadata": {"name": namespace}}, exist_ok=True)
        for secret in fleet.secret_manifests(namespace):
            await self.kube.create(f"/api/v1/namespaces/{namespace}/secrets", secret, exist_ok=True)
        self.namespaces.add(namespace)

    async def create(self, members: list[fleet.Member]) -> None:
        """Create resources concurrently (the API server takes them in parallel)."""
        for namespace in sorted({m.namespace for m in members}):
            await self.ensure_namespace(namespace)
        semaphore = asyncio.Semaphore(self.config.limit_concurrency)

        async def one(m: fleet.Member) -> None:
            async with semaphore:
                manifest = m.manifest(self.sim_url, self.config.interval)
                await self.kube.create(cms_path(m.namespace), manifest, exist_ok=True)

        await asyncio.gather(*(one(m) for m in members))

    async def delete(self, members: list[fleet.Member]) -> None:
        await asyncio.gather(*(self.kube.delete(cms_path(m.namespace, m.name)) for m in members))

    def log(self, message: str) -> None:
        print(f"[{self.elapsed():7.1f}s] {message}", flush=True)
