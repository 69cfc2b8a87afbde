"""Shared fetches: one provider call per target, credentials and interval, however many resources ask."""

from __future__ import annotations

import asyncio
import gc
import weakref

import httpx
import pytest

from cloudmodel_operator.api.observation import Observation
from cloudmodel_operator.engine.fetcher import Fetcher, FetchHooks, fingerprint
from cloudmodel_operator.engine.retry import RetryPolicy
from cloudmodel_operator.providers.base import (
    Credentials,
    CredentialsError,
    ErrorClass,
    ProviderError,
    Target,
)
from cloudmodel_operator.providers.endpoints import EndpointNotAllowed, EndpointPolicy
from tests.unit.core.fakes import Clock, FakeProvider, credentials, ready_observation, target


async def fetch(fetcher: Fetcher, where: Target, creds: Credentials, *, max_age: float) -> Observation:
    """What a pass does: a result younger than its interval, else one fetch under a deadline."""
    key = fetcher.key(where, creds)
    cached = fetcher.cached(key, max_age)
    if isinstance(cached, ProviderError):
        raise cached
    if cached is not None:
        return cached
    return await fetcher.fetch(key, creds, within=30.0)


def make_fetcher(
    clock: Clock,
    *,
    retry: RetryPolicy | None = None,
    hooks: FetchHooks | None = None,
    allow: tuple[str, ...] = (),
) -> Fetcher:
    return Fetcher(
        client=httpx.AsyncClient(),
        policy=EndpointPolicy(allow),
        rate=1000.0,
        burst=1000,
        retry=retry or RetryPolicy(attempts=1),
        hooks=hooks or FetchHooks(),
        clock=clock,
    )


async def test_same_target_and_credentials_share_one_call_per_interval(fake_provider: FakeProvider) -> None:
    fake_provider.results["inst-1"] = ready_observation()
    clock = Clock()
    fetcher = make_fetcher(clock)
    first = await fetch(fetcher, target(), credentials(), max_age=60)
    clock.advance(59)
    second = await fetch(fetcher, target(), credentials(), max_age=60)
    assert second == first
    assert fake_provider.count("inst-1") == 1
    clock.advance(1)  # the cached result is now as old as the interval: fetch again
    await fetch(fetcher, target(), credentials(), max_age=60)
    assert fake_provider.count("inst-1") == 2


async def test_each_asker_applies_its_own_interval(fake_provider: FakeProvider) -> None:
    fake_provider.results["inst-1"] = ready_observation()
    clock = Clock()
    fetcher = make_fetcher(clock)
    await fetch(fetcher, target(), credentials(), max_age=600)
    clock.advance(30)
    await fetch(fetcher, target(), credentials(), max_age=600)  # slow poller: 30s old is fresh
    assert fake_provider.count("inst-1") == 1
    await fetch(fetcher, target(), credentials(), max_age=10)  # fast poller: 30s old is too old
    assert fake_provider.count("inst-1") == 2


async def test_different_credentials_do_not_share(fake_provider: FakeProvider) -> None:
    fake_provider.results["inst-1"] = ready_observation()
    fetcher = make_fetcher(Clock())
    await fetch(fetcher, target(), credentials("AKID-a", "secret-a-0001"), max_age=60)
    await fetch(fetcher, target(), credentials("AKID-b", "secret-b-0001"), max_age=60)
    # Same key ID with another secret: a rotated or wrong secret must not ride on a good one's result.
    await fetch(fetcher, target(), credentials("AKID-a", "secret-a-0002"), max_age=60)
    assert fake_provider.count("inst-1") == 3
    assert [c[2]["accessKeySecret"] for c in fake_provider.calls] == [
        "secret-a-0001",
        "secret-b-0001",
        "secret-a-0002",
    ]


async def test_different_targets_do_not_share(fake_provider: FakeProvider) -> None:
    fake_provider.results["inst-1"] = ready_observation(ready=1)
    fake_provider.results["inst-2"] = ready_observation(ready=2)
    fetcher = make_fetcher(Clock())
    one = await fetch(fetcher, target("inst-1"), credentials(), max_age=60)
    two = await fetch(fetcher, target("inst-2"), credentials(), max_age=60)
    other_region = await fetch(fetcher, target("inst-1", region="cn-beijing"), credentials(), max_age=60)
    assert (one.replicas.ready, two.replicas.ready, other_region.replicas.ready) == (1, 2, 1)
    assert [(name, url) for name, url, _ in fake_provider.calls] == [
        ("inst-1", "https://fake.cn-hangzhou.aliyuncs.com"),
        ("inst-2", "https://fake.cn-hangzhou.aliyuncs.com"),
        ("inst-1", "https://fake.cn-beijing.aliyuncs.com"),
    ]


async def test_concurrent_askers_wait_for_the_call_in_flight(fake_provider: FakeProvider) -> None:
    fake_provider.results["inst-1"] = ready_observation()
    fake_provider.gate = asyncio.Event()
    fetcher = make_fetcher(Clock())

    async def release_once_called() -> None:
        await fake_provider.entered.wait()
        assert fake_provider.gate is not None
        fake_provider.gate.set()

    # max_age=0: nothing is served from the cache, so the second asker can only share the call in flight.
    first, second, _ = await asyncio.wait_for(
        asyncio.gather(
            fetch(fetcher, target(), credentials(), max_age=0),
            fetch(fetcher, target(), credentials(), max_age=0),
            release_once_called(),
        ),
        timeout=5,
    )
    assert first == second == ready_observation()
    assert fake_provider.count("inst-1") == 1


async def test_a_failure_in_flight_reaches_every_asker(fake_provider: FakeProvider) -> None:
    fake_provider.results["inst-1"] = ProviderError(ErrorClass.AUTH, "denied")
    fake_provider.gate = asyncio.Event()
    fetcher = make_fetcher(Clock())

    async def release_once_called() -> None:
        await fake_provider.entered.wait()
        assert fake_provider.gate is not None
        fake_provider.gate.set()

    results = await asyncio.wait_for(
        asyncio.gather(
            fetch(fetcher, target(), credentials(), max_age=0),
            fetch(fetcher, target(), credentials(), max_age=0),
            release_once_called(),
            return_exceptions=True,
        ),
        timeout=5,
    )
    assert [type(r) for r in results[:2]] == [ProviderError, ProviderError]
    assert fake_provider.count("inst-1") == 1


async def test_a_failure_is_shared_for_the_interval_too(fake_provider: FakeProvider) -> None:
    fake_provider.results["inst-1"] = ProviderError(ErrorClass.NOT_FOUND, "no such instance")
    clock = Clock()
    fetcher = make_fetcher(clock)
    for _ in range(2):
        with pytest.raises(ProviderError, match="no such instance"):
            await fetch(fetcher, target(), credentials(), max_age=60)
    assert fake_provider.count("inst-1") == 1
    clock.advance(60)
    with pytest.raises(ProviderError):
        await fetch(fetcher, target(), credentials(), max_age=60)
    assert fake_provider.count("inst-1") == 2


async def test_forget_drops_the_cached_result(fake_provider: FakeProvider) -> None:
    fake_provider.results["inst-1"] = ready_observation()
    fetcher = make_fetcher(Clock())
    await fetch(fetcher, target(), credentials(), max_age=600)
    fetcher.forget(target())
    await fetch(fetcher, target(), credentials(), max_age=600)
    assert fake_provider.count("inst-1") == 2


async def test_refused_endpoint_and_bad_credentials_fail_before_any_call(
    fake_provider: FakeProvider,
) -> None:
    fake_provider.results["inst-1"] = ready_observation()
    fetcher = make_fetcher(Clock())
    with pytest.raises(EndpointNotAllowed):
        await fetch(fetcher, target(endpoint="https://collector.example.com"), credentials(), max_age=60)
    with pytest.raises(CredentialsError, match="accessKeySecret"):
        await fetch(fetcher, target(), credentials(secret=""), max_age=60)
    assert fake_provider.calls == []


async def test_an_allowed_override_is_where_the_call_goes(fake_provider: FakeProvider) -> None:
    fake_provider.results["inst-1"] = ready_observation()
    fetcher = make_fetcher(Clock(), allow=(r"http://127\.0\.0\.1:\d+",))
    await fetch(fetcher, target(endpoint="http://127.0.0.1:8787/"), credentials(), max_age=60)
    assert fake_provider.calls[0][1] == "http://127.0.0.1:8787"


async def test_retryable_errors_are_retried_within_one_fetch(fake_provider: FakeProvider) -> None:
    fake_provider.results["inst-1"] = [
        ProviderError(ErrorClass.TRANSIENT, "HTTP 503", http_status=503),
        ready_observation(),
    ]
    # A zero backoff keeps the retry from waiting; the policy's waits are tested on their own.
    retry = RetryPolicy(attempts=3, initial_backoff=0.0, max_backoff=0.0)
    fetcher = make_fetcher(Clock(), retry=retry)
    assert await fetch(fetcher, target(), credentials(), max_age=60) == ready_observation()
    assert fake_provider.count("inst-1") == 2
    await fetch(fetcher, target(), credentials(), max_age=60)
    assert fake_provider.count("inst-1") == 2  # the retried success is what got shared


async def test_hooks_see_each_request_and_its_outcome(fake_provider: FakeProvider) -> None:
    fake_provider.results["inst-1"] = ready_observation()
    fake_provider.results["inst-2"] = ProviderError(ErrorClass.THROTTLED, "slow down")
    requests: list[tuple[str, str]] = []
    hooks = FetchHooks(on_request=lambda provider, outcome, seconds: requests.append((provider, outcome)))
    fetcher = make_fetcher(Clock(), hooks=hooks)
    await fetch(fetcher, target("inst-1"), credentials(), max_age=60)
    with pytest.raises(ProviderError):
        await fetch(fetcher, target("inst-2"), credentials(), max_age=60)
    assert requests == [("unit-fake", "ok"), ("unit-fake", "throttled")]


def test_the_credentials_fingerprint_is_stable_and_reveals_nothing() -> None:
    a = credentials("AKID-a", "secret-a-0001")
    same = type(a)({"accessKeySecret": "secret-a-0001", "accessKeyId": "AKID-a"})
    assert fingerprint(a) == fingerprint(same)  # key order does not matter
    assert fingerprint(a) != fingerprint(credentials("AKID-a", "secret-a-0002"))
    assert "secret-a-0001" not in fingerprint(a)
    assert "AKID-a" not in fingerprint(a)


async def test_a_cached_failure_keeps_nothing_of_the_call_alive(fake_provider: FakeProvider) -> None:
    # A failed call's frames hold what it read (up to the 4 MB body cap, decoded): the failure is
    # kept for the interval, and must not keep them alive with it.
    read: list[weakref.ref[object]] = []

    class Answer:
        pass

    async def observe(*args: object) -> None:
        answer = Answer()  # what the failed call read
        read.append(weakref.ref(answer))
        try:
            raise KeyError("serviceList")
        except KeyError as exc:
            raise ProviderError(
                ErrorClass.INVALID_RESPONSE, "cannot read the answer", http_status=200
            ) from exc

    fake_provider.observe = observe  # type: ignore[method-assign]
    fetcher = make_fetcher(Clock())
    for _ in range(2):  # the second is the cached failure
        with pytest.raises(ProviderError) as info:
            await fetch(fetcher, target(), credentials(), max_age=60)
        failure = info.value
        assert (failure.error_class, failure.message, failure.http_status) == (
            ErrorClass.INVALID_RESPONSE, "cannot read the answer", 200,
        )  # fmt: skip
        del info, failure  # the raised failure's own frames go with it
    gc.collect()
    assert len(read) == 1
    assert read[0]() is None, "the cached failure keeps the failed call's frames alive"
