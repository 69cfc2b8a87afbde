"""Fetch one provider target: endpoint policy, shared fetches, rate limit, retries.

Resources that name the same target with the same credentials share one fetch per interval:
a result (or failure) younger than the asking resource's own poll interval is reused, and
concurrent askers wait for the one call in flight.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from cloudmodel_operator.api.observation import Observation
from cloudmodel_operator.providers import get_provider
from cloudmodel_operator.providers.base import Credentials, ProviderError, Target
from cloudmodel_operator.reconciler.endpoints import EndpointPolicy
from cloudmodel_operator.reconciler.ratelimit import RateLimiter
from cloudmodel_operator.reconciler.retry import RetryPolicy

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FetchKey:
    provider: str
    base_url: str
    target: Target
    credentials_fingerprint: str


@dataclass
class _Entry:
    fetched_at: float
    result: Observation | None = None
    error: BaseException | None = None


@dataclass
class FetchHooks:
    """Callbacks the metrics module plugs in; the fetcher itself knows nothing of Prometheus."""

    on_request: Callable[[str, str, float], None] = lambda provider, outcome, seconds: None
    on_rate_limit_wait: Callable[[str, float], None] = lambda provider, seconds: None


def fingerprint(credentials: Credentials) -> str:
    digest = hashlib.sha256()
    for key in sorted(credentials.values):
        digest.update(key.encode() + b"\0" + credentials.values[key].encode() + b"\0")
    return digest.hexdigest()[:16]


@dataclass
class Fetcher:
    client: httpx.AsyncClient
    policy: EndpointPolicy
    limiter: RateLimiter
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    hooks: FetchHooks = field(default_factory=FetchHooks)
    clock: Callable[[], float] = time.monotonic
    _cache: dict[FetchKey, _Entry] = field(default_factory=dict)
    _inflight: dict[FetchKey, asyncio.Future[Observation]] = field(default_factory=dict)

    def key(self, target: Target, credentials: Credentials) -> FetchKey:
        provider = get_provider(target.provider)
        base_url = self.policy.resolve(provider, target.region, target.endpoint)
        return FetchKey(target.provider, base_url, target, fingerprint(credentials))

    async def fetch(self, target: Target, credentials: Credentials, *, max_age: float) -> Observation:
        """The target's observation, at most `max_age` seconds old. Raises what the provider raised."""
        key = self.key(target, credentials)  # EndpointNotAllowed escapes here, before any I/O
        get_provider(target.provider).validate_credentials(credentials)  # CredentialsError
        entry = self._cache.get(key)
        if entry is not None and self.clock() - entry.fetched_at < max_age:
            if entry.error is not None:
                raise entry.error
            assert entry.result is not None
            return entry.result
        inflight = self._inflight.get(key)
        if inflight is not None:
            return await asyncio.shield(inflight)
        future: asyncio.Future[Observation] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            result = await self._fetch_with_retries(key, credentials)
        except BaseException as exc:
            if not isinstance(exc, asyncio.CancelledError):
                self._cache[key] = _Entry(self.clock(), error=exc)
            future.set_exception(exc)
            future.exception()  # mark retrieved: other waiters may not exist
            raise
        else:
            self._cache[key] = _Entry(self.clock(), result=result)
            future.set_result(result)
            return result
        finally:
            self._inflight.pop(key, None)

    def forget(self, target: Target) -> None:
        """Drop cached results for a target (its spec or credentials changed)."""
        for key in [k for k in self._cache if k.target == target]:
            del self._cache[key]

    async def _fetch_with_retries(self, key: FetchKey, credentials: Credentials) -> Observation:
        provider = get_provider(key.provider)
        bucket = self.limiter.bucket(key.provider, credentials.account(), key.base_url)

        async def attempt() -> Observation:
            waited = await bucket.acquire()
            if waited:
                self.hooks.on_rate_limit_wait(key.provider, waited)
            started = self.clock()
            try:
                observation = await provider.observe(self.client, key.base_url, key.target, credentials)
            except ProviderError as exc:
                self.hooks.on_request(key.provider, exc.error_class.value, self.clock() - started)
                raise
            self.hooks.on_request(key.provider, "ok", self.clock() - started)
            return observation

        def log_retry(error: ProviderError, delay: float) -> None:
            logger.info("retrying %s %s in %.1fs after %s", key.provider, key.target.display, delay, error)

        return await self.retry.call(attempt, on_retry=log_retry)
