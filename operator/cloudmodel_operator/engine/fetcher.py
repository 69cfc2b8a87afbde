"""Fetch one provider target: endpoint policy, shared fetches, the per-account budget, retries.

- Resources that name the same target with the same credentials share one fetch per interval:
  a result (or failure) younger than the asking resource's own interval is reused, and
  concurrent askers wait for the one call in flight. Old results are dropped, so the cache holds
  about one entry per target.
- Every account (provider, access key, endpoint) has a token bucket. The engine reserves a
  token before it commits a worker to a fetch; when the bucket is empty the pass goes back on
  the queue for the moment its token is there, so a slow budget becomes even lateness.
- Retries (the one retry policy) happen inside the pass's deadline.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from cloudmodel_operator.api.observation import Observation
from cloudmodel_operator.engine.retry import RetryPolicy
from cloudmodel_operator.providers import get_provider
from cloudmodel_operator.providers.base import Credentials, ProviderError, Target
from cloudmodel_operator.providers.endpoints import EndpointPolicy
from cloudmodel_operator.ratelimit import TokenBucket

logger = logging.getLogger(__name__)

BudgetKey = tuple[str, str, str]  # (provider, account, base URL)


@dataclass(frozen=True)
class FetchKey:
    provider: str
    base_url: str
    target: Target
    credentials_fingerprint: str
    account: str  # the non-secret identity of the credentials (access key id, user name)

    @property
    def budget(self) -> BudgetKey:
        return (self.provider, self.account, self.base_url)


@dataclass
class _Entry:
    fetched_at: float
    result: Observation | None = None
    error: ProviderError | None = None


@dataclass
class FetchHooks:
    """Callbacks the metrics module plugs in; the fetcher itself knows nothing of Prometheus."""

    on_request: Callable[[str, str, float], None] = lambda provider, outcome, seconds: None
    on_call_start: Callable[[], None] = lambda: None


def _detached(error: ProviderError) -> ProviderError:
    """The same failure without its traceback and causes, to be kept for an interval.

    Their frames hold what the failed call read (up to the body cap, decoded); kept with the
    error in the cache, every failing target would hold megabytes for as long as its entry lives.
    """
    return ProviderError(
        error.error_class,
        error.message,
        code=error.code,
        http_status=error.http_status,
        request_id=error.request_id,
        retry_after=error.retry_after,
    )


def fingerprint(credentials: Credentials) -> str:
    digest = hashlib.sha256()
    for key in sorted(credentials.values):
        digest.update(key.encode() + b"\0" + credentials.values[key].encode() + b"\0")
    return digest.hexdigest()[:16]


@dataclass
class Fetcher:
    client: httpx.AsyncClient
    policy: EndpointPolicy
    rate: float = 5.0
    burst: int = 10
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    hooks: FetchHooks = field(default_factory=FetchHooks)
    clock: Callable[[], float] = time.monotonic
    max_age_kept: float = 3600.0
    _cache: OrderedDict[FetchKey, _Entry] = field(default_factory=OrderedDict)
    _inflight: dict[FetchKey, asyncio.Future[Observation]] = field(default_factory=dict)
    _buckets: dict[BudgetKey, TokenBucket] = field(default_factory=dict)

    def key(self, target: Target, credentials: Credentials) -> FetchKey:
        """Where and as whom this target is fetched. Raises EndpointNotAllowed or CredentialsError."""
        provider = get_provider(target.provider)
        base_url = self.policy.resolve(provider, target.region, target.endpoint)
        provider.validate_credentials(credentials)
        return FetchKey(target.provider, base_url, target, fingerprint(credentials), credentials.account())

    def bucket(self, key: BudgetKey) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self.rate, self.burst, self.clock)
        return bucket

    def cached(self, key: FetchKey, max_age: float) -> Observation | ProviderError | None:
        """A result or failure younger than `max_age` seconds, if there is one."""
        entry = self._cache.get(key)
        if entry is None or self.clock() - entry.fetched_at >= max_age:
            return None
        return entry.result if entry.result is not None else entry.error

    def in_flight(self, key: FetchKey) -> bool:
        return key in self._inflight

    async def fetch(self, key: FetchKey, credentials: Credentials, *, within: float) -> Observation:
        """Fetch now (or join the fetch in flight). Raises ProviderError; TimeoutError past `within`."""
        inflight = self._inflight.get(key)
        if inflight is not None:
            return await asyncio.shield(inflight)
        future: asyncio.Future[Observation] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            async with asyncio.timeout(within):
                result = await self._with_retries(key, credentials, within)
        except BaseException as exc:
            if isinstance(exc, ProviderError):
                self._store(key, _Entry(self.clock(), error=_detached(exc)))
            future.set_exception(exc)
            future.exception()  # retrieved: there may be no other waiter
            raise
        else:
            self._store(key, _Entry(self.clock(), result=result))
            future.set_result(result)
            return result
        finally:
            self._inflight.pop(key, None)

    def _store(self, key: FetchKey, entry: _Entry) -> None:
        self._cache[key] = entry
        self._cache.move_to_end(key)
        now = self.clock()
        while self._cache:  # oldest first: entries move to the end when refreshed
            first = next(iter(self._cache))
            if now - self._cache[first].fetched_at <= self.max_age_kept:
                break
            del self._cache[first]

    def forget(self, target: Target) -> None:
        """Drop cached results for a target (its spec or credentials changed)."""
        for key in [k for k in self._cache if k.target == target]:
            del self._cache[key]

    async def _with_retries(self, key: FetchKey, credentials: Credentials, within: float) -> Observation:
        provider = get_provider(key.provider)
        bucket = self.bucket(key.budget)
        attempts = 0

        async def attempt() -> Observation:
            nonlocal attempts
            attempts += 1
            if attempts > 1:
                await bucket.acquire()  # the first attempt's token was reserved by the engine
            self.hooks.on_call_start()
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

        return await self.retry.call(attempt, on_retry=log_retry, within=within)
