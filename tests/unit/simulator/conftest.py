from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from cloudmodel_dev.simulator.scenario import Scenario, load_scenario
from cloudmodel_dev.simulator.server import SimulatorHandle, run_in_thread

START = datetime(2026, 11, 20, 8, 0, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class FakeSleep:
    """Records requested delays instead of waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake_sleep() -> FakeSleep:
    return FakeSleep()


@pytest.fixture
def scenario() -> Scenario:
    return load_scenario(None)


@pytest.fixture
def sim(scenario: Scenario, clock: FakeClock, fake_sleep: FakeSleep) -> Iterator[SimulatorHandle]:
    with run_in_thread(scenario, clock=clock, sleep=fake_sleep) as handle:
        yield handle
