"""Token buckets per provider account, on a fake clock."""

from __future__ import annotations

import asyncio

import pytest

from cloudmodel_operator.reconciler import ratelimit
from cloudmodel_operator.reconciler.ratelimit import RateLimiter, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refill_at_the_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=2.0, burst=3, clock=clock)
    assert [bucket.try_acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.try_acquire() == pytest.approx(0.5)  # one token every 1/rate seconds
    clock.now += 0.5
    assert bucket.try_acquire() == 0.0
    clock.now += 100
    assert [bucket.try_acquire() for _ in range(4)][:3] == [0.0, 0.0, 0.0]  # refill stops at burst


def test_refused_tries_do_not_consume() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=1.0, burst=1, clock=clock)
    bucket.try_acquire()
    assert bucket.try_acquire() == pytest.approx(1.0)
    clock.now += 0.25
    assert bucket.try_acquire() == pytest.approx(0.75)


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (1, 0)])
def test_nonsense_limits_are_refused(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="rate must be"):
        TokenBucket(rate, burst)


async def test_acquire_without_waiting_while_tokens_last() -> None:
    bucket = TokenBucket(rate=1.0, burst=2, clock=Clock())
    assert [await bucket.acquire(), await bucket.acquire()] == [0.0, 0.0]


def test_one_bucket_per_provider_account_and_endpoint() -> None:
    limiter = RateLimiter(rate=1.0, burst=1)
    a = limiter.bucket("baidu-qianfan", "ak-1", "https://qianfan.baidubce.com")
    assert limiter.bucket("baidu-qianfan", "ak-1", "https://qianfan.baidubce.com") is a
    assert limiter.bucket("baidu-qianfan", "ak-2", "https://qianfan.baidubce.com") is not a
    assert limiter.bucket("alibaba-hologres", "ak-1", "https://qianfan.baidubce.com") is not a
    assert limiter.bucket("baidu-qianfan", "ak-1", "http://127.0.0.1:8787") is not a


class SleepOnClock:
    """Stands in for asyncio.sleep: advances the fake clock instead of waiting."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.clock.now += seconds


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> tuple[Clock, SleepOnClock]:
    clock = Clock()
    sleep = SleepOnClock(clock)
    monkeypatch.setattr(ratelimit.asyncio, "sleep", sleep)
    return clock, sleep


async def test_acquire_waits_out_the_rate_and_reports_the_wait(slept: tuple[Clock, SleepOnClock]) -> None:
    clock, sleep = slept
    bucket = TokenBucket(rate=4.0, burst=2, clock=clock)
    assert [await bucket.acquire() for _ in range(2)] == [0.0, 0.0]
    start = clock.now
    waited = await bucket.acquire()
    assert waited == pytest.approx(0.25)
    assert clock.now - start == pytest.approx(0.25)
    assert sum(sleep.calls) == pytest.approx(waited)


async def test_a_queue_of_callers_is_served_at_the_rate(slept: tuple[Clock, SleepOnClock]) -> None:
    clock, _ = slept
    bucket = TokenBucket(rate=2.0, burst=1, clock=clock)
    start = clock.now
    waits = await asyncio.gather(*(bucket.acquire() for _ in range(5)))
    assert sorted(waits) == pytest.approx([0.0, 0.5, 0.5, 0.5, 0.5])
    assert clock.now - start == pytest.approx(2.0)  # 5 calls with burst 1 at 2/s take 2s


def test_an_idle_bucket_refills_only_to_the_burst() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=10.0, burst=2, clock=clock)
    bucket.try_acquire()
    bucket.try_acquire()
    clock.now += 3600
    assert [bucket.try_acquire() for _ in range(3)] == [0.0, 0.0, pytest.approx(0.1)]


def test_buckets_of_one_limiter_do_not_share_tokens() -> None:
    limiter = RateLimiter(rate=0.001, burst=1)
    first = limiter.bucket("alibaba-hologres", "ak-1", "https://hologram.cn-hangzhou.aliyuncs.com")
    second = limiter.bucket("alibaba-hologres", "ak-2", "https://hologram.cn-hangzhou.aliyuncs.com")
    assert first.try_acquire() == 0.0
    assert first.try_acquire() > 0  # ak-1 is out of tokens ...
    assert second.try_acquire() == 0.0  # ... ak-2 is not
    assert (second.rate, second.burst) == (0.001, 1)
