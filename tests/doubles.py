"""A provider double registered through the same interface as the real providers.

Tests script what each target returns (an Observation or a ProviderError) and can wait for the
n-th call to happen, so nothing sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from typing import ClassVar

import httpx

from cloudmodel_operator import providers
from cloudmodel_operator.api.observation import (
    Billing,
    Endpoint,
    Observation,
    Phase,
    Replicas,
    Resources,
    ServiceStatus,
    Usage,
)
from cloudmodel_operator.providers.base import Credentials, ErrorClass, Provider, ProviderError, Target


class Script:
    def __init__(self) -> None:
        self._lock = threading.Condition()
        self.results: dict[str, Observation | ProviderError] = {}
        self.calls: defaultdict[str, int] = defaultdict(int)
        self.call_times: defaultdict[str, list[float]] = defaultdict(list)  # time.monotonic() of each call
        self.credentials_seen: dict[str, dict[str, str]] = {}
        self.latency = 0.0  # seconds each call takes (a slow provider)
        self.in_flight = 0
        self.max_in_flight = 0

    def set(self, target: str, result: Observation | ProviderError) -> None:
        with self._lock:
            self.results[target] = result

    def record(self, target: str, credentials: Credentials) -> Observation | ProviderError | None:
        with self._lock:
            self.calls[target] += 1
            self.call_times[target].append(time.monotonic())
            self.credentials_seen[target] = dict(credentials.values)
            self._lock.notify_all()
            return self.results.get(target)

    def wait_all(self, targets: list[str], count: int, timeout: float = 60.0) -> None:
        """Wait until every target has been called at least `count` times."""
        with self._lock:
            if not self._lock.wait_for(lambda: all(self.calls[t] >= count for t in targets), timeout=timeout):
                short = {t: self.calls[t] for t in targets if self.calls[t] < count}
                raise AssertionError(
                    f"{len(short)} targets had fewer than {count} calls after {timeout}s: {short}"
                )

    def wait_calls(self, target: str, count: int, timeout: float = 60.0) -> int:
        with self._lock:
            if not self._lock.wait_for(lambda: self.calls[target] >= count, timeout=timeout):
                raise AssertionError(f"{target}: {self.calls[target]} calls after {timeout}s, wanted {count}")
            return self.calls[target]


SCRIPT = Script()


class ScriptedProvider(Provider):
    name: ClassVar[str] = "scripted"
    credential_keys: ClassVar[tuple[str, ...]] = ("accessKeyId", "accessKeySecret")

    def default_base_url(self, region: str) -> str:
        return f"https://scripted.{region}.aliyuncs.com"

    def validate_credentials(self, credentials: Credentials) -> None:
        for key in self.credential_keys:
            credentials.require(key)

    async def observe(
        self, client: httpx.AsyncClient, base_url: str, target: Target, credentials: Credentials
    ) -> Observation:
        with SCRIPT._lock:
            SCRIPT.in_flight += 1
            SCRIPT.max_in_flight = max(SCRIPT.max_in_flight, SCRIPT.in_flight)
        try:
            if SCRIPT.latency:
                await asyncio.sleep(SCRIPT.latency)  # the provider's answer time
        finally:
            with SCRIPT._lock:
                SCRIPT.in_flight -= 1
        result = SCRIPT.record(target.display, credentials)
        if result is None:
            raise ProviderError(ErrorClass.NOT_FOUND, f"no scripted result for {target.display}")
        if isinstance(result, ProviderError):
            raise result
        return result


@contextlib.contextmanager
def scripted(provider_value: str = "alibaba-hologres") -> Iterator[Script]:
    """Serve `provider_value` resources from the scripted double for the duration of the block."""
    original = providers.PROVIDERS[provider_value]
    providers.PROVIDERS[provider_value] = "tests.doubles:ScriptedProvider"
    providers.get_provider.cache_clear()
    try:
        yield SCRIPT
    finally:
        providers.PROVIDERS[provider_value] = original
        providers.get_provider.cache_clear()


def observation(
    phase: Phase = Phase.READY, state: str = "ResourceReady", ready: int = 2, message: str | None = None
) -> Observation:
    return Observation(
        phase=phase,
        providerState=state,
        message=message,
        resources=Resources(gpu=Usage(total="4", used="2"), memory=Usage(total="128Gi", used="64Gi")),
        replicas=Replicas(desired=2, ready=ready),
        services=[
            ServiceStatus(
                name="my_model", model="qwen3.5-plus", state="Running", phase=Phase.READY, replicas=2
            )
        ],
        endpoints=[Endpoint(type="public", url="https://example.invalid/api")],
        billing=Billing(chargeType="PrePaid", autoRenew=True),
        requestId="req-1",
    )
