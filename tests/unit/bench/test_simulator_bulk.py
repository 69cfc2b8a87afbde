"""The simulator's bulk routes: many targets changed at once, per-target call times."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from cloudmodel_dev.bench import fleet
from cloudmodel_dev.simulator.scenario import parse_scenario
from cloudmodel_dev.simulator.server import SimulatorHandle, run_in_thread
from tests.unit.simulator import calls
from tests.unit.simulator.conftest import START, FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sim(clock: FakeClock) -> Iterator[SimulatorHandle]:
    scenario = parse_scenario(
        {
            "accounts": {"baidu": [{"accessKey": calls.BAIDU[0], "secretKey": calls.BAIDU[1]}]},
            "targets": [{"provider": "baidu-qianfan", "id": f"unit-{i}"} for i in range(3)],
        }
    )
    with run_in_thread(scenario, clock=clock) as handle:
        yield handle


def _state(sim: SimulatorHandle, unit: str) -> str:
    body = calls.qianfan(sim, unit, START).json()
    return str(body["result"]["computeUnitInstance"]["status"])


def test_bulk_change_applies_every_change(sim: SimulatorHandle) -> None:
    response = httpx.post(
        f"{sim.url}/_admin/bulk/targets",
        json={
            "targets": [
                {"provider": "baidu-qianfan", "id": "unit-0", "state": "Reconfiguring"},
                {"provider": "baidu-qianfan", "id": "unit-1", "state": "Releasing"},
                {"provider": "baidu-qianfan", "id": "unit-9", "state": "Running"},
            ]
        },
    )
    assert response.status_code == 200
    assert response.json() == {"created": 1, "updated": 2, "at": START.timestamp()}
    assert [_state(sim, f"unit-{i}") for i in (0, 1, 2, 9)] == [
        "Reconfiguring",
        "Releasing",
        "Running",
        "Running",
    ]


def test_bulk_change_with_one_bad_entry_changes_nothing(sim: SimulatorHandle) -> None:
    response = httpx.post(
        f"{sim.url}/_admin/bulk/targets",
        json={
            "targets": [
                {"provider": "baidu-qianfan", "id": "unit-0", "state": "Reconfiguring"},
                {"provider": "baidu-qianfan", "id": "has/slash"},
            ]
        },
    )
    assert response.status_code == 400
    assert "targets[1]" in response.json()["error"]
    assert _state(sim, "unit-0") == "Running"
    assert httpx.post(f"{sim.url}/_admin/bulk/targets", json={"targets": "x"}).status_code == 400


def test_call_times_per_target_since_a_moment(sim: SimulatorHandle, clock: FakeClock) -> None:
    calls.qianfan(sim, "unit-0", START)
    clock.advance(60)
    calls.qianfan(sim, "unit-0", START)
    calls.qianfan(sim, "unit-1", START)
    body = httpx.get(f"{sim.url}/_admin/bulk/calls", params={"since": "0"}).json()
    times = {t: ts for _, t, ts in body["calls"]}
    assert times == {
        "unit-0": [START.timestamp(), START.timestamp() + 60],
        "unit-1": [START.timestamp() + 60],
    }
    assert body["outcomes"] == {"baidu-qianfan": {"ok": 3}}
    later = httpx.get(f"{sim.url}/_admin/bulk/calls", params={"since": str(START.timestamp() + 30)}).json()
    assert {t: ts for _, t, ts in later["calls"]} == {
        "unit-0": [START.timestamp() + 60],
        "unit-1": [START.timestamp() + 60],
    }
    assert httpx.get(f"{sim.url}/_admin/bulk/calls", params={"since": "soon"}).status_code == 400
    sim.reset_counters()
    assert httpx.get(f"{sim.url}/_admin/bulk/calls", params={"since": "0"}).json()["calls"] == []


def test_the_benchmarks_churn_change_is_accepted(sim: SimulatorHandle) -> None:
    m = fleet.member(3)  # a Qianfan member
    response = httpx.post(f"{sim.url}/_admin/bulk/targets", json={"targets": [m.churn_change()]})
    assert response.status_code == 200
    assert _state(sim, m.target_id) == "Reconfiguring"
