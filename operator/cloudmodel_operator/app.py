"""The running operator: informers, the engine, leases, credentials, health and metrics, wired once.

    informer (list+watch CloudModelServices) -> engine (records, delay queue, workers)
        -> reconciler (credentials, provider budget, fetch, build, diff, write) -> events, metrics
    shard manager (Leases) -> which shards the engine owns

The operator writes nothing but status subresources, Events and its own Leases: no finalizers,
no annotations, so a resource can always be deleted, even while the operator is down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from prometheus_client import start_http_server

from cloudmodel_operator import __version__, health
from cloudmodel_operator.engine.engine import Engine
from cloudmodel_operator.engine.fetcher import Fetcher, FetchHooks
from cloudmodel_operator.engine.reconcile import Reconciler
from cloudmodel_operator.engine.retry import RetryPolicy
from cloudmodel_operator.ha.shards import ShardManager
from cloudmodel_operator.kube import config, paths
from cloudmodel_operator.kube.client import KubeClient
from cloudmodel_operator.kube.credentials import (
    CredentialStore,
    SecretHealth,
    SecretKey,
    SecretMetadataHandler,
)
from cloudmodel_operator.kube.events import EventRecorder
from cloudmodel_operator.kube.informer import Informer
from cloudmodel_operator.kube.status import StatusWriter
from cloudmodel_operator.metrics import Metrics
from cloudmodel_operator.providers.endpoints import EndpointPolicy
from cloudmodel_operator.providers.http import make_client
from cloudmodel_operator.redact import install_log_redaction
from cloudmodel_operator.settings import Settings

logger = logging.getLogger(__name__)

DRAIN_GRACE = 8.0  # seconds for passes in flight to finish on SIGTERM (the pod has 30 by default)


def default_identity() -> str:
    return os.environ.get("POD_NAME") or f"{socket.gethostname()}-{os.getpid()}"


@dataclass
class Operator:
    """Everything that lives for the operator's lifetime, created inside its event loop."""

    settings: Settings
    metrics: Metrics = field(default_factory=Metrics)
    identity: str = ""
    engine: Engine = field(init=False)
    credentials: CredentialStore = field(init=False)
    shards: ShardManager | None = field(init=False, default=None)
    informers: list[Informer] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.identity = self.identity or self.settings.identity or default_identity()

    def ready(self) -> bool:
        return bool(self.informers) and all(informer.synced.is_set() for informer in self.informers)

    async def run(self, stop: asyncio.Event, started: Callable[[], None] = lambda: None) -> None:
        settings = self.settings
        install_log_redaction()
        kube_config = config.load(settings.kubeconfig)
        client = KubeClient(
            kube_config,
            qps=settings.kube_qps,
            burst=settings.kube_burst,
            max_connections=settings.workers + 8,
            user_agent=f"cloudmodel-operator/{__version__} ({self.identity})",
            on_request=self.metrics.kube_request,
        )
        providers_http = make_client()
        self.engine = engine = Engine(settings, self.metrics)
        self.metrics.shards_owned(settings.shards, set())  # every shard's series from the start
        self.credentials = credentials = CredentialStore(
            client,
            ttl=settings.credentials_ttl.total_seconds(),
            recheck=settings.credentials_recheck.total_seconds(),
            on_changed=engine.secret_changed,
            on_health=self._credentials_health,
        )
        fetcher = Fetcher(
            client=providers_http,
            policy=EndpointPolicy(settings.allow_endpoints),
            rate=settings.rate_limit,
            burst=settings.rate_burst,
            retry=RetryPolicy(attempts=settings.retry_attempts),
            hooks=FetchHooks(on_request=self.metrics.request),
        )
        if settings.standalone:
            authority: Callable[[int], float] = lambda shard: float("inf")  # noqa: E731
        else:
            namespace = (
                settings.lease_namespace
                or os.environ.get("POD_NAMESPACE")
                or kube_config.namespace
                or "default"
            )
            self.shards = ShardManager(
                client,
                namespace=namespace,
                lease_name=settings.lease_name,
                identity=self.identity,
                shards=settings.shards,
                lease_duration=settings.lease_duration.total_seconds(),
                renew_deadline=settings.renew_deadline.total_seconds(),
                retry_period=settings.retry_period.total_seconds(),
                own=self._own,
                ready=self._synced,
            )
            authority = self.shards.authority
        engine.reconciler = Reconciler(
            settings=_write_timeout_within_leases(settings),
            fetcher=fetcher,
            credentials=credentials,
            writer=StatusWriter(client, None if settings.standalone else self.identity),
            events=EventRecorder(client, self.identity),
            metrics=self.metrics,
            authority=authority,
            demand=engine.demand,
        )
        scopes: list[str | None] = list(settings.namespaces) or [None]
        self.informers = [
            Informer(
                client,
                paths.cms_collection(scope),
                engine,
                scope=scope,
                what=f"CloudModelServices in {scope or 'all namespaces'}",
            )
            for scope in scopes
        ]
        secret_informers = []
        if settings.watch_secret_metadata:
            handler = SecretMetadataHandler(credentials, lambda ns, name: (ns, name) in engine.by_secret)
            secret_informers = [
                Informer(
                    client,
                    paths.secrets(scope),
                    handler,
                    scope=scope,
                    metadata_only=True,
                    what=f"Secret metadata in {scope or 'all namespaces'}",
                )
                for scope in scopes
            ]
        tasks = [
            asyncio.create_task(i.run(), name=f"informer:{i.what}") for i in self.informers + secret_informers
        ]
        tasks.append(asyncio.create_task(engine.run(), name="engine"))
        tasks.append(asyncio.create_task(credentials.run_rechecks(), name="credentials-recheck"))
        tasks.append(asyncio.create_task(self._forget_unused_secrets(credentials), name="credentials-gc"))
        if self.shards is not None:
            tasks.append(asyncio.create_task(self.shards.run(), name="leases"))
        else:
            tasks.append(asyncio.create_task(self._own_everything_when_synced(), name="standalone"))
        health_server = (
            health.serve(settings.health_port, self.ready)
            if settings.health_port
            else contextlib.nullcontext()
        )
        try:
            async with health_server:
                started()
                stopped = asyncio.create_task(stop.wait())
                await asyncio.wait([stopped, *tasks], return_when=asyncio.FIRST_COMPLETED)
                for task in tasks:
                    if task.done() and not task.cancelled() and task.exception() is not None:
                        raise task.exception()  # type: ignore[misc]
                stopped.cancel()
                logger.info("stopping: finishing passes in flight, then releasing leases")
                await engine.drain(DRAIN_GRACE)
                if self.shards is not None:
                    await self.shards.release_all()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await providers_http.aclose()
            await client.aclose()
            logger.info("stopped")

    async def _synced(self) -> None:
        await asyncio.gather(*(informer.synced.wait() for informer in self.informers))

    async def _own_everything_when_synced(self) -> None:
        await self._synced()
        self._own(set(range(self.settings.shards)))
        await asyncio.Event().wait()  # lives as long as the others: it owns everything until the end

    def _own(self, shards: set[int]) -> None:
        self.engine.own(shards)
        self.metrics.shards_owned(self.settings.shards, shards)
        # Per-Secret health is reported by the replica that works on the resources using it.
        self.credentials.forget_unused(self.engine.owned_secrets())

    def _credentials_health(self, key: SecretKey, state: SecretHealth) -> None:
        self.metrics.credentials_health(
            key[0],
            key[1],
            state.valid,
            state.error_class,
            state.since.timestamp() if state.since else None,
            state.expires_at.timestamp() if state.expires_at else None,
        )

    async def _forget_unused_secrets(self, credentials: CredentialStore) -> None:
        while True:
            await asyncio.sleep(60.0)  # housekeeping period
            credentials.forget_unused(self.engine.owned_secrets())


def _write_timeout_within_leases(settings: Settings) -> Settings:
    """With leases, a write must be able to finish well inside the renew deadline."""
    if settings.standalone:
        return settings
    limit = settings.renew_deadline / 2
    return replace(settings, write_timeout=min(settings.write_timeout, limit))


def run(settings: Settings) -> None:
    """Run the operator in the foreground until SIGINT/SIGTERM."""
    metrics = Metrics()
    if settings.metrics_port:
        start_http_server(settings.metrics_port, registry=metrics.registry)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await Operator(settings, metrics).run(stop)

    asyncio.run(main())
