"""In-memory stand-ins for a provider, a clock and the Kubernetes side of a worker."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import httpx

from cloudmodel_operator.api.observation import Observation, Phase, Replicas
from cloudmodel_operator.providers.base import Credentials, ErrorClass, Provider, ProviderError, Target

FAKE_PROVIDER = "unit-fake"


class Clock:
    """A monotonic clock that only moves when told to."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeProvider(Provider):
    """Answers from a script keyed by `target.display`, counts calls, can hold a call open."""

    name: ClassVar[str] = FAKE_PROVIDER
    credential_keys: ClassVar[tuple[str, ...]] = ("accessKeyId", "accessKeySecret")

    def __init__(self) -> None:
        self.results: dict[str, Observation | ProviderError | list[Observation | ProviderError]] = {}
        self.calls: list[tuple[str, str, dict[str, str]]] = []
        self.entered = asyncio.Event()
        self.gate: asyncio.Event | None = None

    def default_base_url(self, region: str) -> str:
        return f"https://fake.{region}.aliyuncs.com"

    def validate_credentials(self, credentials: Credentials) -> None:
        for key in self.credential_keys:
            credentials.require(key)

    def count(self, display: str) -> int:
        return sum(1 for name, _, _ in self.calls if name == display)

    async def observe(
        self, client: httpx.AsyncClient, base_url: str, target: Target, credentials: Credentials
    ) -> Observation:
        self.calls.append((target.display, base_url, dict(credentials.values)))
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        scripted = self.results.get(target.display)
        if isinstance(scripted, list):
            scripted = scripted.pop(0) if len(scripted) > 1 else scripted[0]
        if scripted is None:
            raise ProviderError(ErrorClass.NOT_FOUND, f"nothing scripted for {target.display}")
        if isinstance(scripted, ProviderError):
            raise scripted
        return scripted


def ready_observation(ready: int = 2, desired: int = 2) -> Observation:
    return Observation(
        phase=Phase.READY, providerState="Running", replicas=Replicas(desired=desired, ready=ready)
    )


def target(name: str = "inst-1", region: str = "cn-hangzhou", endpoint: str | None = None) -> Target:
    return Target(provider=FAKE_PROVIDER, region=region, instance_id=name, endpoint=endpoint)


def credentials(key_id: str = "AKID-unit", secret: str = "unit-secret-value-1") -> Credentials:
    return Credentials({"accessKeyId": key_id, "accessKeySecret": secret})


class MemoryStore:
    """Holds the written status documents and answers credential reads."""

    def __init__(self, creds: Credentials | Exception) -> None:
        self.creds = creds
        self.writes: list[dict[str, Any]] = []

    async def replace_status(self, namespace: str, name: str, status: dict[str, Any]) -> dict[str, Any]:
        self.writes.append(status)
        return status

    async def read_credentials(self, namespace: str, secret_name: str) -> Credentials:
        if isinstance(self.creds, Exception):
            raise self.creds
        return self.creds


class EventLog:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    async def record(self, body: dict[str, Any], event_type: str, reason: str, message: str) -> None:
        self.events.append((event_type, reason, message))


class StubFetcher:
    """Returns or raises one fixed outcome and remembers the `max_age` it was asked for."""

    def __init__(self, outcome: Observation | Exception) -> None:
        self.outcome = outcome
        self.max_ages: list[float] = []

    async def fetch(self, target: Target, credentials: Credentials, *, max_age: float) -> Observation:
        self.max_ages.append(max_age)
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


async def wait_until(event: asyncio.Event, what: str, seconds: float = 5.0) -> None:
    """Await an event the code under test sets; fail with a message instead of hanging."""
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None
