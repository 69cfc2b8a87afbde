"""Runs `cloudmodel run` as a real process: for tests that kill, cut off or count per replica."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from cloudmodel_dev.controlplane import free_port

LOCALHOST_ENDPOINTS = r"http://127\.0\.0\.1:\d+/?"
WROTE = re.compile(r"^(\S+ \S+) DEBUG\s+cloudmodel_operator\.engine\.reconcile: wrote the status of (\S+)$")


class OperatorProcess:
    def __init__(self, kubeconfig: Path, log_dir: Path, *args: str, identity: str) -> None:
        self.identity = identity
        self.metrics_port = free_port()
        self.health_port = free_port()
        self.log_path = log_dir / f"operator-{identity}.log"
        command = [
            sys.executable, "-m", "cloudmodel_operator", "run",
            f"--kubeconfig={kubeconfig}", f"--identity={identity}",
            f"--metrics-port={self.metrics_port}", f"--health-port={self.health_port}",
            f"--allow-endpoint={LOCALHOST_ENDPOINTS}", "--log-level=DEBUG", *args,
        ]  # fmt: skip
        self._log = self.log_path.open("wb")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDMODEL_", "POD_"))}
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, env=env)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.health_port}{path}"

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Poll /readyz: a process that was just started has no event to wait for."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"{self.identity} exited with {self.process.returncode}:\n{self.log()[-3000:]}"
                )
            try:
                with urllib.request.urlopen(self.url("/readyz"), timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"{self.identity} not ready after {timeout}s:\n{self.log()[-3000:]}")

    def metrics(self) -> dict[str, float]:
        """Every sample of /metrics, keyed `name{label="value",...}` (labels sorted)."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as response:
            text = response.read().decode()
        samples: dict[str, float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
                samples[f"{sample.name}{{{labels}}}"] = sample.value
        return samples

    def total(self, name: str) -> float:
        return sum(v for k, v in self.metrics().items() if k.startswith(name + "{"))

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def writes(self) -> list[tuple[datetime, str]]:
        """(time, namespace/name) of every status write this process made, from its debug log."""
        found = []
        for line in self.log().splitlines():
            match = WROTE.match(line)
            if match:
                found.append((datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f"), match.group(2)))
        return found

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def terminate(self, timeout: float = 30.0) -> float:
        """SIGTERM; returns how long the process took to exit."""
        started = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=timeout)
        return time.monotonic() - started

    def close(self) -> None:
        self.kill()
        self._log.close()


@contextmanager
def operators(
    kubeconfig: Path, log_dir: Path, identities: list[str], *args: str
) -> Iterator[list[OperatorProcess]]:
    started = [OperatorProcess(kubeconfig, log_dir, *args, identity=identity) for identity in identities]
    try:
        for process in started:
            process.wait_ready()
        yield started
    finally:
        for process in started:
            process.close()
