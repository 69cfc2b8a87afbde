"""The running operator: Kopf watches, our scheduler polls, metrics are served.

Only `@kopf.on.event` handlers are used. They need no finalizer and make Kopf store no progress
or diff-base annotations, so the operator never writes to a resource except its status, and a
resource can always be deleted, even while the operator is down.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass, field
from typing import Any

import kopf
from prometheus_client import start_http_server

from cloudmodel_operator.api.spec import GROUP, PLURAL, VERSION
from cloudmodel_operator.kube.client import connection_info, load_api_client
from cloudmodel_operator.kube.events import EventRecorder
from cloudmodel_operator.kube.resources import KubeResources
from cloudmodel_operator.metrics import Metrics
from cloudmodel_operator.providers.http import make_client
from cloudmodel_operator.reconciler.endpoints import EndpointPolicy
from cloudmodel_operator.reconciler.fetcher import Fetcher, FetchHooks
from cloudmodel_operator.reconciler.ratelimit import RateLimiter
from cloudmodel_operator.reconciler.retry import RetryPolicy
from cloudmodel_operator.reconciler.scheduler import Scheduler
from cloudmodel_operator.reconciler.worker import Worker
from cloudmodel_operator.redact import install_log_redaction
from cloudmodel_operator.settings import Settings

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Everything that lives for the operator's lifetime, created inside its event loop."""

    settings: Settings
    metrics: Metrics
    scheduler: Scheduler
    fetcher: Fetcher
    secret_versions: dict[tuple[str, str], str] = field(default_factory=dict)


class Listener:
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def status_changed(self, body: dict[str, Any], status: Any) -> None:
        self.metrics.status_changed(body, status)

    def resource_gone(self, namespace: str, name: str) -> None:
        self.metrics.resource_gone(namespace, name)

    def poll_lateness(self, seconds: float) -> None:
        self.metrics.poll_late(seconds)


def build_registry(config: Settings, metrics: Metrics) -> kopf.OperatorRegistry:
    registry = kopf.OperatorRegistry()
    state: dict[str, Runtime] = {}

    @kopf.on.login(registry=registry)
    def login(**_: Any) -> kopf.ConnectionInfo:
        return connection_info(config.kubeconfig)

    @kopf.on.startup(registry=registry)
    async def startup(settings: kopf.OperatorSettings, **_: Any) -> None:
        install_log_redaction()
        # Kopf's own events would repeat ours; keep only its warnings and errors.
        settings.posting.level = logging.WARNING
        settings.watching.server_timeout = 300
        settings.watching.client_timeout = 330
        settings.networking.request_timeout = 60
        state["runtime"] = _make_runtime(config, metrics)

    @kopf.on.cleanup(registry=registry)
    async def cleanup(**_: Any) -> None:
        runtime = state.pop("runtime", None)
        if runtime is not None:
            await runtime.scheduler.shutdown()
            await runtime.fetcher.client.aclose()

    @kopf.on.event(GROUP, VERSION, PLURAL, registry=registry)
    async def resource_event(*, event: kopf.RawEvent, body: kopf.Body, **_: Any) -> None:
        runtime = state["runtime"]
        runtime.scheduler.observe(event.get("type"), _plain(body))
        runtime.metrics.watched.set(len(runtime.scheduler.workers))

    @kopf.on.event("v1", "secrets", registry=registry)
    async def secret_event(*, event: kopf.RawEvent, body: kopf.Body, **_: Any) -> None:
        runtime = state["runtime"]
        meta = body.get("metadata", {})
        key = (str(meta.get("namespace", "")), str(meta.get("name", "")))
        version = str(meta.get("resourceVersion", ""))
        previous = runtime.secret_versions.get(key)
        runtime.secret_versions[key] = version
        # The initial listing (type None) only records versions; a Secret created, changed or
        # deleted afterwards wakes the resources that reference it.
        created_or_deleted = event.get("type") in ("ADDED", "DELETED")
        if created_or_deleted or (previous is not None and previous != version):
            runtime.scheduler.secret_changed(*key)

    @kopf.on.probe(id="workers", registry=registry)
    def workers(**_: Any) -> int:
        runtime = state.get("runtime")
        return len(runtime.scheduler.workers) if runtime else 0

    return registry


def _plain(body: kopf.Body) -> dict[str, Any]:
    return {key: body[key] for key in body}


def _make_runtime(settings: Settings, metrics: Metrics) -> Runtime:
    api = load_api_client(settings.kubeconfig)
    store = KubeResources(api)
    events = EventRecorder(api)
    fetcher = Fetcher(
        client=make_client(),
        policy=EndpointPolicy(settings.allow_endpoints),
        limiter=RateLimiter(settings.rate_limit, settings.rate_burst),
        retry=RetryPolicy(attempts=settings.retry_attempts),
        hooks=FetchHooks(on_request=metrics.request, on_rate_limit_wait=metrics.rate_limited),
    )
    listener = Listener(metrics)

    def make_worker(namespace: str, name: str, body: dict[str, Any]) -> Worker:
        return Worker(namespace, name, body, fetcher, store, events, settings, listener=listener)

    scheduler = Scheduler(make_worker, on_forget=listener.resource_gone)
    return Runtime(settings=settings, metrics=metrics, scheduler=scheduler, fetcher=fetcher)


def run(settings: Settings) -> None:
    """Run the operator in the foreground until SIGINT/SIGTERM."""
    metrics = Metrics()
    if settings.metrics_port:
        start_http_server(settings.metrics_port, registry=metrics.registry)
    registry = build_registry(settings, metrics)
    if settings.kubeconfig:
        os.environ["KUBECONFIG"] = settings.kubeconfig  # Kopf's login reads it too
    asyncio.run(
        kopf.operator(
            registry=registry,
            standalone=settings.standalone,
            peering_name=settings.peering,
            clusterwide=not settings.namespaces,
            namespaces=settings.namespaces,
            liveness_endpoint=f"http://0.0.0.0:{settings.health_port}/healthz"
            if settings.health_port
            else None,
        )
    )
