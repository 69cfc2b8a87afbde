"""Memory stays flat whatever a provider sends: peak RSS of a process fetching hostile bodies.

Each body is fetched by a fresh process (`hostile_fetch`) from the simulator on loopback; its
peak resident size is compared with the same process fetching a normal answer. The figures are
printed (`pytest -s`) for the record.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from cloudmodel_dev.simulator.scenario import MiB, load_scenario
from cloudmodel_dev.simulator.server import SimulatorHandle, run_in_thread
from tests.conftest import REPO

TARGET = ("baidu-qianfan", "unit-sandbox-running")
CEILING = 150 * MiB  # the operator's whole process, fetching anything
FLAT = 25 * MiB  # above the same process fetching a normal answer


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorHandle]:
    with run_in_thread(load_scenario(None)) as handle:
        yield handle


def peak_of(simulator: SimulatorHandle, fault: dict[str, Any] | None) -> tuple[str, int]:
    if fault is not None:
        simulator.add_fault(*TARGET, fault)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "tests.unit.providers.hostile_fetch", simulator.url],
            capture_output=True, text=True, check=True, timeout=120, cwd=REPO,
        )  # fmt: skip
    finally:
        simulator.clear_faults()
    report = json.loads(result.stdout)
    return report["outcome"], report["peak_rss_bytes"]


@pytest.fixture(scope="module")
def baseline(simulator: SimulatorHandle) -> int:
    outcome, peak = peak_of(simulator, None)
    assert outcome == "ok: Ready"
    print(f"\nnormal answer: peak RSS {peak / MiB:.1f} MiB")
    return peak


@pytest.mark.parametrize(
    ("name", "fault"),
    [
        ("50 MiB body with Content-Length", {"kind": "huge-body", "size": 50 * MiB}),
        ("200 MiB chunked body", {"kind": "endless", "size": 200 * MiB}),
        ("gzip bomb (512 MiB decoded)", {"kind": "gzip-bomb", "size": 512 * MiB}),
    ],
)
def test_peak_memory_stays_flat(
    simulator: SimulatorHandle, baseline: int, name: str, fault: dict[str, Any]
) -> None:
    outcome, peak = peak_of(simulator, fault)
    print(f"{name}: {outcome}; peak RSS {peak / MiB:.1f} MiB (normal {baseline / MiB:.1f} MiB)")
    assert outcome.startswith("invalid-response:"), outcome
    assert peak < CEILING
    assert peak - baseline < FLAT
