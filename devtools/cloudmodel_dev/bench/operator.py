"""The operator under test, exactly as users run it: `cloudmodel run` in its own process.

The benchmark is black-box: it relies on the flags below and on the metric names in
`OPERATOR_METRICS`, nothing else of the operator's insides.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from cloudmodel_dev.bench import promtext
from cloudmodel_dev.bench.processes import Proc
from cloudmodel_dev.controlplane import free_port

ALLOW_LOOPBACK = r"http://127\.0\.0\.1:\d+/?"
OPERATOR_METRICS = (
    "cloudmodel_status_writes_total",
    "cloudmodel_status_repairs_total",
    "cloudmodel_status_write_failures_total",
    "cloudmodel_provider_requests_total",
    "cloudmodel_poll_lateness_seconds_bucket",
    "cloudmodel_watched_resources",
)
HA_FLAGS = ("--shards", "--identity", "--lease-namespace")


def cloudmodel_binary() -> str:
    """The operator to measure: $CLOUDMODEL_BENCH_OPERATOR (another build), else the venv's."""
    chosen = os.environ.get("CLOUDMODEL_BENCH_OPERATOR")
    if chosen:
        return chosen
    beside = Path(sys.executable).parent / "cloudmodel"
    return str(beside) if beside.exists() else "cloudmodel"


def run_help() -> str:
    result = subprocess.run(  # noqa: S603 - our own CLI
        [cloudmodel_binary(), "run", "--help"], capture_output=True, text=True, check=False, timeout=60
    )
    return result.stdout + result.stderr


def missing_flags(help_text: str, flags: tuple[str, ...]) -> list[str]:
    return [flag for flag in flags if flag not in help_text]


@dataclass(frozen=True)
class OperatorMetrics:
    writes: float  # status writes after a fetch (cloudmodel_status_writes_total)
    repairs: float  # writes that put back a status another client changed (cloudmodel_status_repairs_total)
    write_failures: float  # status writes that failed or timed out (cloudmodel_status_write_failures_total)
    requests: dict[str, float]  # provider calls by outcome
    lateness: dict[float, float]  # cumulative buckets
    watched: float | None

    @property
    def provider_calls(self) -> float:
        return sum(self.requests.values())


def parse_metrics(text: str) -> OperatorMetrics:
    samples = promtext.parse(text, OPERATOR_METRICS)
    watched = [s.value for s in samples if s.name == "cloudmodel_watched_resources"]
    return OperatorMetrics(
        writes=promtext.total(samples, "cloudmodel_status_writes_total"),
        repairs=promtext.total(samples, "cloudmodel_status_repairs_total"),
        write_failures=promtext.total(samples, "cloudmodel_status_write_failures_total"),
        requests=promtext.by_label(samples, "cloudmodel_provider_requests_total", "outcome"),
        lateness=promtext.buckets(samples, "cloudmodel_poll_lateness_seconds"),
        watched=sum(watched) if watched else None,
    )


class Operator:
    """One `cloudmodel run` process with its metrics port."""

    def __init__(
        self, kubeconfig: Path, log_dir: Path, label: str, extra: list[str], *, standalone: bool = True
    ):
        self.metrics_port = free_port()
        self.args = [
            cloudmodel_binary(), "run", "--kubeconfig", str(kubeconfig),
            "--metrics-port", str(self.metrics_port), "--health-port", "0",
            "--allow-endpoint", ALLOW_LOOPBACK, *extra,
        ]  # fmt: skip
        if standalone:
            self.args.insert(2, "--standalone")
        self.proc = Proc(f"operator-{label}", self.args, log_dir / f"operator-{label}.log")
        # Metrics pages carry a series per resource; ask only for what is read (prometheus_client
        # honours `name[]`; a server that does not just sends everything).
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(60.0))

    @property
    def url(self) -> str:
        query = "&".join(f"name[]={name}" for name in _sample_names())
        return f"http://127.0.0.1:{self.metrics_port}/metrics?{query}"

    def start(self) -> Operator:
        self.proc.start()
        return self

    async def wait_metrics(self, within: float = 60.0) -> bool:
        """Until its /metrics answers (a just-started process has no event to await)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline and self.proc.alive():
            try:
                if (await self._client.get(self.url)).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
        return False

    async def metrics(self) -> OperatorMetrics | None:
        if not self.proc.alive():
            return None
        try:
            response = await self._client.get(self.url)
        except httpx.TransportError:
            return None
        return parse_metrics(response.text) if response.status_code == 200 else None

    async def raw_metrics(self) -> str | None:
        try:
            response = await self._client.get(f"http://127.0.0.1:{self.metrics_port}/metrics")
        except httpx.TransportError:
            return None
        return response.text if response.status_code == 200 else None

    async def aclose(self) -> None:
        await self._client.aclose()


def _sample_names() -> list[str]:
    names = []
    for name in OPERATOR_METRICS:
        names.append(name)
        if name.endswith("_bucket"):
            base = name.removesuffix("_bucket")
            names += [f"{base}_count", f"{base}_sum"]
    return names
