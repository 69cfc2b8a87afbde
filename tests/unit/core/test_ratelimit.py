"""Token buckets per provider account, on a fake clock."""

from __future__ import annotations

import pytest

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
