"""The one token bucket (provider budgets, Kubernetes QPS), on a fake clock."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from cloudmodel_operator import ratelimit
from cloudmodel_operator.engine.fetcher import Fetcher
from cloudmodel_operator.providers.endpoints import EndpointPolicy
from cloudmodel_operator.ratelimit import TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_reservations_queue_up_at_the_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=2.0, burst=3, clock=clock)
    assert [bucket.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]
    # Further reservations never fail: each says when its token will be there, one every 1/rate s.
    assert [bucket.reserve() for _ in range(3)] == pytest.approx([0.5, 1.0, 1.5])
    clock.now += 1.5
    assert bucket.reserve() == pytest.approx(0.5)  # the three reserved tokens were used meanwhile


def test_wait_time_peeks_without_taking() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=1.0, burst=1, clock=clock)
    assert bucket.wait_time() == 0.0
    bucket.reserve()
    assert bucket.wait_time() == pytest.approx(1.0)
    assert bucket.wait_time() == pytest.approx(1.0)
    clock.now += 0.25
    assert bucket.wait_time() == pytest.approx(0.75)


def test_a_reservation_given_back_frees_its_token() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=1.0, burst=1, clock=clock)
    bucket.reserve()
    assert bucket.reserve() == pytest.approx(1.0)
    bucket.give_back()
    assert bucket.reserve() == pytest.approx(1.0)


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (1, 0)])
def test_nonsense_limits_are_refused(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="rate must be"):
        TokenBucket(rate, burst)


class SleepOnClock:
    """Stands in for asyncio.sleep: advances the fake clock instead of waiting."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.clock.now = max(self.clock.now, self.clock.now + 0)  # time is read at reservation


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> tuple[Clock, SleepOnClock]:
    clock = Clock()
    sleep = SleepOnClock(clock)
    monkeypatch.setattr(ratelimit.asyncio, "sleep", sleep)
    return clock, sleep


async def test_acquire_sleeps_exactly_the_reserved_wait(slept: tuple[Clock, SleepOnClock]) -> None:
    clock, sleep = slept
    bucket = TokenBucket(rate=4.0, burst=2, clock=clock)
    assert [await bucket.acquire() for _ in range(2)] == [0.0, 0.0]
    waited = await bucket.acquire()
    assert waited == pytest.approx(0.25)
    assert sleep.calls == [pytest.approx(0.25)]


async def test_concurrent_callers_are_spread_at_the_rate(slept: tuple[Clock, SleepOnClock]) -> None:
    clock, _ = slept
    bucket = TokenBucket(rate=2.0, burst=1, clock=clock)
    waits = await asyncio.gather(*(bucket.acquire() for _ in range(5)))
    assert sorted(waits) == pytest.approx([0.0, 0.5, 1.0, 1.5, 2.0])  # 5 calls, burst 1, 2/s: 2s


def test_an_idle_bucket_refills_only_to_the_burst() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=10.0, burst=2, clock=clock)
    bucket.reserve()
    bucket.reserve()
    clock.now += 3600
    assert [bucket.reserve() for _ in range(3)] == [0.0, 0.0, pytest.approx(0.1)]


def test_one_budget_per_provider_account_and_endpoint() -> None:
    fetcher = Fetcher(client=httpx.AsyncClient(), policy=EndpointPolicy(()), rate=0.001, burst=1)
    a = fetcher.bucket(("baidu-qianfan", "ak-1", "https://qianfan.baidubce.com"))
    assert fetcher.bucket(("baidu-qianfan", "ak-1", "https://qianfan.baidubce.com")) is a
    others = [
        fetcher.bucket(("baidu-qianfan", "ak-2", "https://qianfan.baidubce.com")),
        fetcher.bucket(("alibaba-hologres", "ak-1", "https://qianfan.baidubce.com")),
        fetcher.bucket(("baidu-qianfan", "ak-1", "http://127.0.0.1:8787")),
    ]
    assert all(other is not a for other in others)
    assert a.reserve() == 0.0
    assert a.reserve() > 0  # ak-1 is out of tokens ...
    assert others[0].reserve() == 0.0  # ... ak-2 is not
    assert (others[0].rate, others[0].burst) == (0.001, 1)
