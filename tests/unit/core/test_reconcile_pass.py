"""One reconciler pass at a time, with the Kubernetes side faked: what a pass that ends early leaves behind."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from cloudmodel_operator import providers
from cloudmodel_operator.api.observation import Observation, Phase
from cloudmodel_operator.engine.fetcher import Fetcher
from cloudmodel_operator.engine.reconcile import Done, NotOwner, Reconciler
from cloudmodel_operator.engine.records import Record, digest, parse_spec
from cloudmodel_operator.engine.retry import RetryPolicy
from cloudmodel_operator.kube.client import KubeUnavailable
from cloudmodel_operator.metrics import Metrics
from cloudmodel_operator.providers.base import ErrorClass, ProviderError
from cloudmodel_operator.providers.endpoints import EndpointPolicy
from cloudmodel_operator.settings import Settings
from tests.unit.core.fakes import FakeProvider, credentials

PROVIDER = "alibaba-hologres"  # a provider the spec accepts, served by the fake


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProvider]:
    monkeypatch.setitem(providers.PROVIDERS, PROVIDER, "tests.unit.core.fakes:FakeProvider")
    providers.get_provider.cache_clear()
    provider = providers.get_provider(PROVIDER)
    assert isinstance(provider, FakeProvider)
    yield provider
    providers.get_provider.cache_clear()


class Credentials:
    async def get(self, namespace: str, name: str) -> Any:
        return credentials()

    def report(self, *args: Any, **kwargs: Any) -> None:
        pass


@dataclass
class Writer:
    """The status subresource: records each write; can fail or hold writes open."""

    written: list[dict[str, Any]] = field(default_factory=list)
    fail: Exception | None = None
    lands: bool = False  # a failed write lands all the same (the client timed out, the server went on)
    gate: asyncio.Event | None = None
    entered: asyncio.Event = field(default_factory=asyncio.Event)

    async def write(
        self, namespace: str, name: str, uid: str, status: dict[str, Any], *, within: float
    ) -> str:
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.fail is not None:
            if self.lands:
                self.written.append(status)
            raise self.fail
        self.written.append(status)
        return str(len(self.written))


@dataclass
class Events:
    posted: list[tuple[str, str]] = field(default_factory=list)  # (reason, message)

    async def record(self, ref: Any, event_type: str, reason: str, message: str) -> None:
        self.posted.append((reason, message))


def record() -> Record:
    spec, error = parse_spec({
        "provider": PROVIDER, "region": "cn-hangzhou", "instanceId": "inst-1",
        "credentialsSecretRef": {"name": "creds"}, "pollInterval": "10s",
    })  # fmt: skip
    return Record(
        namespace="ns", name="svc", uid="uid-1", resource_version="1", generation=1, spec=spec,
        spec_error=error, reconcile_request=None, shard=0, seen_digest=digest({}), ours=None,
        ours_digest=digest({}),
    )  # fmt: skip


@dataclass
class World:
    provider: FakeProvider
    writer: Writer
    events: Events
    authority: list[float]
    wall: list[datetime]
    reconciler: Reconciler

    def say(self, phase: Phase, state: str) -> None:
        self.provider.results["inst-1"] = Observation(phase=phase, providerState=state)


@pytest.fixture
def world(fake: FakeProvider) -> World:
    writer = Writer()
    events = Events()
    authority = [float("inf")]
    wall = [datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)]
    fetcher = Fetcher(
        client=httpx.AsyncClient(), policy=EndpointPolicy(()), rate=1000.0, burst=1000,
        retry=RetryPolicy(attempts=1),
    )  # fmt: skip
    reconciler = Reconciler(
        settings=Settings(stale_after_polls=2), fetcher=fetcher, credentials=Credentials(), writer=writer,  # type: ignore[arg-type]
        events=events, metrics=Metrics(), authority=lambda shard: authority[0],  # type: ignore[arg-type]
        demand=lambda rec, budget, interval: None, wall=lambda: wall[0],
    )  # fmt: skip
    return World(fake, writer, events, authority, wall, reconciler)


async def poll(world: World, rec: Record) -> object:
    rec.bypass_cache = True  # every pass asks the provider (the shared cache is another test's subject)
    return await world.reconciler.poll(rec, scheduled=True)


def seen(rec: Record) -> None:
    """What the watch does after a write lands: the API server now shows what the operator wrote."""
    rec.seen_digest = rec.ours_digest


async def test_a_pass_that_lost_its_shard_before_writing_leaves_the_next_pass_to_write(world: World) -> None:
    rec = record()
    world.say(Phase.READY, "Running")
    assert isinstance(await poll(world, rec), Done)
    seen(rec)
    assert [w["phase"] for w in world.writer.written] == ["Ready"]

    # The provider changes while this replica is about to lose its lease: the pass observes the
    # change but may not write it.
    world.say(Phase.PROGRESSING, "Reconfiguring")
    world.authority[0] = 0.0
    with pytest.raises(NotOwner):
        await poll(world, rec)

    # The lease is back: the next pass sees the same answer and must still write it.
    world.authority[0] = float("inf")
    assert isinstance(await poll(world, rec), Done)
    assert [w["phase"] for w in world.writer.written] == ["Ready", "Progressing"]


async def test_a_pass_cancelled_during_its_write_leaves_the_next_pass_to_write(world: World) -> None:
    rec = record()
    world.say(Phase.READY, "Running")
    await poll(world, rec)
    seen(rec)

    world.say(Phase.FAILED, "CreateFailed")
    world.writer.gate = asyncio.Event()
    world.writer.entered.clear()
    task = asyncio.create_task(poll(world, rec))
    await world.writer.entered.wait()
    task.cancel()  # the shard was handed over, or the resource's pass was stopped
    with pytest.raises(asyncio.CancelledError):
        await task

    world.writer.gate = None
    await poll(world, rec)
    assert [w["phase"] for w in world.writer.written] == ["Ready", "Failed"]


async def test_a_write_the_api_server_did_not_take_is_written_by_the_next_pass(world: World) -> None:
    rec = record()
    world.say(Phase.READY, "Running")
    await poll(world, rec)
    seen(rec)

    world.say(Phase.DEGRADED, "Degraded")
    world.writer.fail = KubeUnavailable(0, "ConnectError", "no answer from the API server")
    await poll(world, rec)
    world.writer.fail = None
    await poll(world, rec)
    assert [w["phase"] for w in world.writer.written] == ["Ready", "Degraded"]


async def test_a_transition_whose_write_failed_gets_its_event_when_it_is_written(world: World) -> None:
    rec = record()
    world.say(Phase.READY, "Running")
    await poll(world, rec)
    seen(rec)

    world.say(Phase.DEGRADED, "ReconfigureFailed")
    world.writer.fail = KubeUnavailable(0, "ConnectError", "no answer from the API server")
    await poll(world, rec)  # the API server is down: nothing written, nothing announced
    assert world.events.posted == []

    world.writer.fail = None
    await poll(world, rec)
    seen(rec)
    assert [w["phase"] for w in world.writer.written] == ["Ready", "Degraded"]
    assert world.events.posted == [
        ("PhaseChanged", "phase Ready -> Degraded (provider state 'ReconfigureFailed')")
    ]


async def test_staleness_counts_from_the_last_successful_fetch_not_the_last_write(world: World) -> None:
    rec = record()  # polled every 10s; stale after 2 polls (20s) without success
    world.say(Phase.READY, "Running")
    start = world.wall[0]
    await poll(world, rec)
    seen(rec)
    world.wall[0] = start + timedelta(seconds=15)
    await poll(world, rec)  # the same answer: nothing written, lastSyncTime in the status stays at 0s
    assert len(world.writer.written) == 1

    world.provider.results["inst-1"] = ProviderError(ErrorClass.TRANSIENT, "HTTP 503", http_status=503)
    world.wall[0] = start + timedelta(seconds=25)  # 10s after the last success, 25s after the last write
    await poll(world, rec)
    failing = world.writer.written[-1]
    ready = next(c for c in failing["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("True", "Available")
    assert failing["lastSyncTime"] == "2026-11-30T12:00:15Z"
    seen(rec)

    world.wall[0] = start + timedelta(seconds=36)  # 21s after the last success
    await poll(world, rec)
    ready = next(c for c in world.writer.written[-1]["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("Unknown", "StaleObservation")


async def test_a_write_that_timed_out_but_landed_is_not_undone(world: World) -> None:
    # During an etcd outage the API server answered the write too late for the client, then
    # stored it: the watch shows it. Nothing may put the status from before back.
    rec = record()
    world.say(Phase.READY, "Running")
    await poll(world, rec)
    seen(rec)

    world.say(Phase.DEGRADED, "ReconfigureFailed")
    world.writer.fail, world.writer.lands = KubeUnavailable(0, "TimeoutError", "no answer"), True
    await poll(world, rec)
    landed = world.writer.written[-1]
    rec.seen_digest = digest(landed)  # the watch delivers what landed
    assert rec.ours_digest == rec.seen_digest, "the engine would now 'repair' the status back"

    # The engine, seeing its status in the watch, announces the transition it made.
    await world.reconciler.announce(rec)
    assert world.events.posted == [
        ("PhaseChanged", "phase Ready -> Degraded (provider state 'ReconfigureFailed')")
    ]

    world.writer.fail, world.writer.lands = None, False
    await poll(world, rec)  # the same answer again: nothing left to write or announce
    world.wall[0] += timedelta(hours=2)  # the heartbeat writes again
    await poll(world, rec)
    assert [w["phase"] for w in world.writer.written] == ["Ready", "Degraded", "Degraded"]
    assert len(world.events.posted) == 1


async def test_a_poll_that_finds_a_landed_write_announces_it(world: World) -> None:
    # The same as above, but the next poll runs before the engine's announcing pass would.
    rec = record()
    world.say(Phase.READY, "Running")
    await poll(world, rec)
    seen(rec)
    world.say(Phase.DEGRADED, "ReconfigureFailed")
    world.writer.fail, world.writer.lands = KubeUnavailable(0, "TimeoutError", "no answer"), True
    await poll(world, rec)
    rec.seen_digest = digest(world.writer.written[-1])
    world.writer.fail, world.writer.lands = None, False
    await poll(world, rec)
    assert world.events.posted == [
        ("PhaseChanged", "phase Ready -> Degraded (provider state 'ReconfigureFailed')")
    ]
    assert len(world.writer.written) == 2
