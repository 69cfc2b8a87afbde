"""The benchmark's side of the simulator's admin API (bulk changes, call times)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Calls:
    """Provider calls as the simulator saw them: per target (`provider id`), their times."""

    now: float
    times: dict[str, list[float]]
    outcomes: dict[str, dict[str, int]]

    def count(self, start: float, end: float) -> int:
        return sum(1 for ts in self.times.values() for t in ts if start <= t < end)

    def targets_called(self, start: float, end: float) -> set[str]:
        return {key for key, ts in self.times.items() if any(start <= t < end for t in ts)}

    def first_after(self, start: float) -> dict[str, float]:
        firsts = {}
        for key, ts in self.times.items():
            later = [t for t in ts if t >= start]
            if later:
                firsts[key] = min(later)
        return firsts

    def within(self, start: float, end: float) -> dict[str, list[float]]:
        result = {}
        for key, ts in self.times.items():
            inside = [t for t in ts if start <= t < end]
            if inside:
                result[key] = inside
        return result


def target_key(provider: str, target_id: str) -> str:
    return f"{provider} {target_id}"


class SimulatorClient:
    def __init__(self, url: str) -> None:
        self.url = url
        self.client = httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(120.0))

    async def aclose(self) -> None:
        await self.client.aclose()

    async def wait_ready(self, within: float) -> None:
        """The process was just started: poll its admin API until it answers (no event to await)."""
        deadline = time.monotonic() + within
        while True:
            try:
                response = await self.client.get("/_admin/bulk/calls", params={"since": str(time.time())})
                if response.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the simulator at {self.url} did not answer within {within:.0f} s")
            await asyncio.sleep(0.2)

    async def change(self, changes: Iterable[dict[str, Any]]) -> float:
        """Apply changes at once; returns the simulator's time of the change."""
        response = await self.client.post("/_admin/bulk/targets", json={"targets": list(changes)})
        response.raise_for_status()
        return float(response.json()["at"])

    async def calls(self, since: float) -> Calls:
        response = await self.client.get("/_admin/bulk/calls", params={"since": repr(since)})
        response.raise_for_status()
        body = response.json()
        times = {target_key(p, t): list(ts) for p, t, ts in body["calls"]}
        return Calls(now=float(body["now"]), times=times, outcomes=body["outcomes"])
