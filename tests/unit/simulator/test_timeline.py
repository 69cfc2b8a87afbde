"""Timelines advance with an injected clock: no test waits for real time."""

from __future__ import annotations

from datetime import timedelta

from cloudmodel_dev.simulator.scenario import TimelineStep
from cloudmodel_dev.simulator.server import SimulatorHandle
from tests.unit.simulator import calls
from tests.unit.simulator.conftest import FakeClock


def _deploying(sim: SimulatorHandle, clock: FakeClock) -> dict[str, object]:
    response = calls.modelarts(sim, calls.PROJECT, calls.SERVICE_DEPLOYING, clock.now)
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


def test_sandbox_service_deploys_then_runs(sim: SimulatorHandle, clock: FakeClock) -> None:
    assert (_deploying(sim, clock)["status"], _deploying(sim, clock)["progress"]) == ("deploying", 40)
    clock.advance(60)
    assert (_deploying(sim, clock)["status"], _deploying(sim, clock)["progress"]) == ("deploying", 80)
    clock.advance(59)
    assert _deploying(sim, clock)["status"] == "deploying"
    clock.advance(1)
    body = _deploying(sim, clock)
    assert body["status"] == "running"
    assert "access_address" in body


def test_timeline_set_through_the_api_starts_when_set(sim: SimulatorHandle, clock: FakeClock) -> None:
    clock.advance(3600)
    steps = [
        TimelineStep(after=timedelta(seconds=30), state="Releasing"),
        TimelineStep(after=timedelta(minutes=2), state="Released"),
    ]
    sim.set_target("baidu-qianfan", "unit-sandbox-running", timeline=steps)

    def status() -> str:
        body = calls.qianfan(sim, "unit-sandbox-running", clock.now).json()
        return str(body["result"]["computeUnitInstance"]["status"])

    assert status() == "Running"
    clock.advance(30)
    assert status() == "Releasing"
    clock.advance(90)
    assert status() == "Released"


def test_setting_a_state_replaces_the_timeline(sim: SimulatorHandle, clock: FakeClock) -> None:
    sim.set_target("huawei-modelarts", f"{calls.PROJECT}/{calls.SERVICE_DEPLOYING}", state="stopped")
    clock.advance(600)
    assert _deploying(sim, clock)["status"] == "stopped"
