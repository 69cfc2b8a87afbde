"""One resource's polling loop: wait -> read credentials -> fetch -> build status -> write if changed.

A worker owns the in-memory truth for its resource (including counters it does not write every
tick) and is woken early when the spec or the credentials Secret changes.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pydantic import ValidationError

from cloudmodel_operator.api.conditions import Reason
from cloudmodel_operator.api.observation import Phase
from cloudmodel_operator.api.spec import CloudModelServiceSpec
from cloudmodel_operator.api.status import CloudModelServiceStatus
from cloudmodel_operator.kube.resources import ResourceGone
from cloudmodel_operator.providers.base import CredentialsError, ProviderError
from cloudmodel_operator.reconciler.endpoints import EndpointNotAllowed
from cloudmodel_operator.reconciler.fetcher import Fetcher
from cloudmodel_operator.reconciler.status_builder import (
    ERROR_CLASS_REASON,
    Context,
    FetchFailed,
    Observed,
    Outcome,
    Suspended,
    build_status,
    comparable,
)
from cloudmodel_operator.redact import redact
from cloudmodel_operator.settings import Settings

logger = logging.getLogger(__name__)


class StatusStore(Protocol):
    async def replace_status(self, namespace: str, name: str, status: dict[str, Any]) -> dict[str, Any]: ...
    async def read_credentials(self, namespace: str, secret_name: str) -> Any: ...


class EventSink(Protocol):
    async def record(self, body: dict[str, Any], event_type: str, reason: str, message: str) -> None: ...


class StatusListener(Protocol):
    def status_changed(self, body: dict[str, Any], status: CloudModelServiceStatus) -> None: ...
    def resource_gone(self, namespace: str, name: str) -> None: ...
    def poll_lateness(self, seconds: float) -> None: ...


@dataclass
class Worker:
    namespace: str
    name: str
    body: dict[str, Any]
    fetcher: Fetcher
    store: StatusStore
    events: EventSink
    settings: Settings
    listener: StatusListener | None = None
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    status: CloudModelServiceStatus = field(init=False)
    written: dict[str, object] | None = field(init=False, default=None)
    last_write: datetime | None = field(init=False, default=None)
    fetched_generation: int | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.status = CloudModelServiceStatus.from_object(self.body.get("status"))
        if self.body.get("status"):
            self.written = comparable(self.status)

    @property
    def generation(self) -> int | None:
        value = self.body.get("metadata", {}).get("generation")
        return int(value) if value is not None else None

    @property
    def secret_name(self) -> str | None:
        ref = self.body.get("spec", {}).get("credentialsSecretRef") or {}
        name = ref.get("name")
        return str(name) if name else None

    def update(self, body: dict[str, Any]) -> None:
        """A new version of the resource arrived; wake up if the spec changed."""
        old_generation = self.generation
        self.body = body
        if self.generation != old_generation:
            self.wake.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        delay = 0.0
        while True:
            due = loop.time() + delay
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=None if delay == float("inf") else delay)
            except TimeoutError:
                # Only scheduled polls can be late; wake-ups by watch events run early on purpose.
                if self.listener is not None:
                    self.listener.poll_lateness(loop.time() - due)
            self.wake.clear()
            try:
                delay = await self.reconcile()
            except ResourceGone:
                logger.info("%s/%s is gone; stopping", self.namespace, self.name)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("unexpected error reconciling %s/%s", self.namespace, self.name)
                delay = 30.0

    async def reconcile(self) -> float:
        """One pass; returns seconds until the next one."""
        try:
            spec = CloudModelServiceSpec.model_validate(self.body.get("spec") or {})
        except ValidationError as exc:
            # The CRD refuses such objects; this only happens when it was installed without its schema.
            failure = FetchFailed(
                Reason.PROVIDER_ERROR, f"invalid spec: {exc.errors()[0]['msg']}", retrying=False
            )
            await self._apply(failure, target="", provider=str(self.body.get("spec", {}).get("provider", "")))
            return self.settings.terminal_recheck.total_seconds()

        interval = spec.poll_interval.total_seconds()
        target = spec.target()
        if spec.suspend:
            await self._apply(Suspended(), target.display, spec.provider)
            return float("inf")  # only a spec change wakes a suspended resource

        outcome = await self._fetch(spec, interval)
        await self._apply(outcome, target.display, spec.provider)
        self.fetched_generation = self.generation
        if isinstance(outcome, FetchFailed) and not outcome.retrying:
            return self.settings.terminal_recheck.total_seconds()
        jitter = self.settings.jitter
        return interval * random.uniform(1 - jitter, 1 + jitter)  # noqa: S311 - not security

    async def _fetch(self, spec: CloudModelServiceSpec, interval: float) -> Outcome:
        secret = spec.credentialsSecretRef.name
        try:
            credentials = await self.store.read_credentials(self.namespace, secret)
            observation = await self.fetcher.fetch(spec.target(), credentials, max_age=0.8 * interval)
        except CredentialsError as exc:
            return FetchFailed(Reason.CREDENTIALS_MISSING, redact(str(exc)), retrying=False)
        except EndpointNotAllowed as exc:
            return FetchFailed(Reason.ENDPOINT_NOT_ALLOWED, str(exc), retrying=False)
        except ProviderError as exc:
            return FetchFailed(
                ERROR_CLASS_REASON[exc.error_class],
                redact(str(exc)),
                retrying=exc.retryable,
                error_class=exc.error_class.value,
                code=exc.code,
                http_status=exc.http_status,
                request_id=exc.request_id,
            )
        return Observed(observation)

    async def _apply(self, outcome: Outcome, target: str, provider: str) -> None:
        now = self.now()
        interval = (
            CloudModelServiceSpec.model_validate(self.body["spec"]).poll_interval if self._spec_ok() else None
        )
        stale_after = (interval or timedelta(seconds=60)) * self.settings.stale_after_polls
        ctx = Context(self.generation, target, provider, now, stale_after)
        previous = self.status
        new = build_status(previous, outcome, ctx)
        self.status = new
        content = comparable(new)
        heartbeat_due = self.last_write is None or now - self.last_write >= self.settings.heartbeat
        if content == self.written and not heartbeat_due:
            return
        if content == self.written and isinstance(outcome, Suspended):
            return  # nothing to freshen while suspended
        await self.store.replace_status(self.namespace, self.name, new.document())
        self.written = content
        self.last_write = now
        if self.listener is not None:
            self.listener.status_changed(self.body, new)
        await self._emit_events(previous, new, outcome)

    def _spec_ok(self) -> bool:
        try:
            CloudModelServiceSpec.model_validate(self.body.get("spec") or {})
        except ValidationError:
            return False
        return True

    async def _emit_events(
        self, previous: CloudModelServiceStatus, new: CloudModelServiceStatus, outcome: Outcome
    ) -> None:
        had_observation = previous.lastSyncTime is not None
        if new.lastSyncTime is not None and (not had_observation or previous.phase != new.phase):
            before = previous.phase.value if had_observation else "none"
            warning = new.phase in (Phase.FAILED, Phase.DEGRADED)
            detail = f": {new.message}" if new.message else ""
            await self.events.record(
                self.body,
                "Warning" if warning else "Normal",
                "PhaseChanged",
                f"phase {before} -> {new.phase.value} (provider state {new.providerState!r}){detail}",
            )
        if new.failure is not None and (
            previous.failure is None or previous.failure.reason != new.failure.reason
        ):
            await self.events.record(
                self.body,
                "Warning",
                new.failure.reason,
                f"fetching {new.target} failed: {new.failure.message}",
            )
        if previous.failure is not None and new.failure is None:
            await self.events.record(
                self.body,
                "Normal",
                "Recovered",
                f"fetching {new.target} works again after {previous.failure.consecutiveFailures} failure(s)",
            )
