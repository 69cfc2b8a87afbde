"""When a resource is polled next: the interval with bounded jitter, or the terminal re-check."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from cloudmodel_operator.providers.base import CredentialsError, ErrorClass, ProviderError
from cloudmodel_operator.reconciler import worker as worker_module
from cloudmodel_operator.reconciler.fetcher import Fetcher
from cloudmodel_operator.reconciler.worker import Worker
from cloudmodel_operator.settings import Settings
from tests.unit.core.fakes import EventLog, MemoryStore, StubFetcher, credentials, ready_observation

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def body(**spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"namespace": "ns", "name": "svc", "uid": "uid-1", "generation": 1},
        "spec": {
            "provider": "alibaba-hologres",
            "region": "cn-hangzhou",
            "instanceId": "hgprecn-cn-unit",
            "credentialsSecretRef": {"name": "creds"},
            **spec,
        },
    }


def make_worker(
    fetcher: StubFetcher,
    settings: Settings | None = None,
    store: MemoryStore | None = None,
    **spec: Any,
) -> Worker:
    return Worker(
        namespace="ns",
        name="svc",
        body=body(**spec),
        fetcher=cast(Fetcher, fetcher),
        store=store or MemoryStore(credentials()),
        events=EventLog(),
        settings=settings or Settings(),
        now=lambda: T0,
    )


class Extremes:
    """Stands in for `random` and answers `uniform(a, b)` with one end of the range."""

    def __init__(self, end: int) -> None:
        self.end = end
        self.ranges: list[tuple[float, float]] = []

    def uniform(self, a: float, b: float) -> float:
        self.ranges.append((a, b))
        return (a, b)[self.end]


@pytest.mark.parametrize(("end", "expected"), [(0, 27.0), (1, 33.0)])
async def test_the_next_poll_is_the_interval_within_the_jitter(
    monkeypatch: pytest.MonkeyPatch, end: int, expected: float
) -> None:
    extremes = Extremes(end)
    monkeypatch.setattr(worker_module, "random", extremes)
    worker = make_worker(StubFetcher(ready_observation()), Settings(jitter=0.1), pollInterval="30s")
    assert await worker.reconcile() == pytest.approx(expected)
    assert extremes.ranges == [pytest.approx((0.9, 1.1))]


async def test_jittered_polls_spread_inside_the_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker_module, "random", random.Random(20261120))
    worker = make_worker(StubFetcher(ready_observation()), Settings(jitter=0.2), pollInterval="1m")
    delays = [await worker.reconcile() for _ in range(200)]
    assert all(48.0 <= d <= 72.0 for d in delays)
    assert len(set(delays)) > 100  # jittered, not one fixed value
    assert min(delays) < 54.0 < 66.0 < max(delays)  # and spread over the range


async def test_no_jitter_polls_exactly_at_the_interval() -> None:
    worker = make_worker(StubFetcher(ready_observation()), Settings(jitter=0.0), pollInterval="1m30s")
    assert await worker.reconcile() == 90.0


async def test_the_interval_never_goes_below_ten_seconds() -> None:
    # The CRD refuses such values; the worker must hold the floor if the rule was bypassed.
    worker = make_worker(StubFetcher(ready_observation()), Settings(jitter=0.0), pollInterval="1s")
    assert await worker.reconcile() == 10.0


async def test_a_shared_result_may_be_up_to_most_of_the_interval_old() -> None:
    fetcher = StubFetcher(ready_observation())
    settings = Settings()
    worker = make_worker(fetcher, settings, pollInterval="50s")
    await worker.reconcile()
    # Younger than the shortest jittered interval: never a result from before this resource's last poll.
    assert 0 < fetcher.max_ages[0] < 50.0 * (1 - settings.jitter)


@pytest.mark.parametrize(
    "error",
    [
        ProviderError(ErrorClass.AUTH, "InvalidAccessKeyId"),
        ProviderError(ErrorClass.NOT_FOUND, "no such instance"),
        ProviderError(ErrorClass.PERMANENT, "bad request"),
    ],
)
async def test_terminal_errors_wait_for_the_recheck_interval(error: ProviderError) -> None:
    settings = Settings(terminal_recheck=timedelta(minutes=7))
    worker = make_worker(StubFetcher(error), settings, pollInterval="30s")
    assert await worker.reconcile() == 420.0


async def test_missing_credentials_wait_for_the_recheck_interval() -> None:
    store = MemoryStore(CredentialsError("Secret ns/creds not found"))
    worker = make_worker(StubFetcher(ready_observation()), Settings(), store=store, pollInterval="30s")
    assert await worker.reconcile() == Settings().terminal_recheck.total_seconds()
    assert store.writes[-1]["failure"]["reason"] == "CredentialsMissing"


async def test_retryable_errors_keep_the_normal_interval() -> None:
    error = ProviderError(ErrorClass.TRANSIENT, "HTTP 503", http_status=503)
    worker = make_worker(StubFetcher(error), Settings(jitter=0.0), pollInterval="30s")
    assert await worker.reconcile() == 30.0


async def test_a_suspended_resource_is_not_polled_until_woken() -> None:
    fetcher = StubFetcher(ready_observation())
    worker = make_worker(fetcher, pollInterval="30s", suspend=True)
    assert await worker.reconcile() == float("inf")
    assert fetcher.max_ages == []  # nothing was fetched
