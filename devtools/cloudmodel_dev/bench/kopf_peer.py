"""The peer: the simplest Kopf design of this operator, to compare against.

One `@kopf.timer` per object: every tick it fetches the target through the operator's own
provider clients (`get_provider(...).observe(...)`) and patches the status with what it saw,
whether or not anything changed. No shared fetches, no rate limit, no change detection. Kopf adds
its finalizer to every object (timers require one). Credentials are read once per Secret and
interval (a dict), so that Secret reads queued behind thousands of timers do not decide the
comparison: the peer stands for the simple design, not for a careless client.

    python -m cloudmodel_dev.bench.kopf_peer KUBECONFIG INTERVAL_SECONDS
"""

from __future__ import annotations

import asyncio
import base64
import ssl
import sys
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import kopf

from cloudmodel_dev.bench import kopfbase
from cloudmodel_dev.bench.kubeapi import KubeConfig
from cloudmodel_operator.api.observation import Observation, Phase
from cloudmodel_operator.api.spec import GROUP, PLURAL, VERSION, CloudModelServiceSpec
from cloudmodel_operator.providers import get_provider
from cloudmodel_operator.providers.base import Credentials
from cloudmodel_operator.providers.http import make_client


def status_document(
    observation: Observation, target: str, generation: int | None, now: datetime
) -> dict[str, Any]:
    """What the peer writes: the observation as it came, stamped, with Ready and Synced.

    Kopf merge-patches the status: a field the observation does not have is sent as null, so
    that the previous writer's value (a message, say) does not stay behind.
    """
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    ready = observation.phase is Phase.READY
    document: dict[str, Any] = dict.fromkeys(Observation.model_fields)
    document.update(observation.model_dump(mode="json", exclude_none=True))
    document.update(
        target=target,
        observedGeneration=generation,
        lastSyncTime=stamp,
        conditions=[
            {"type": "Ready", "status": "True" if ready else "False", "reason": "Available" if ready else
             observation.phase.value, "message": "", "lastTransitionTime": stamp},
            {"type": "Synced", "status": "True", "reason": "ObservationSucceeded", "message": "",
             "lastTransitionTime": stamp},
        ],
    )  # fmt: skip
    return document


SECRET_READ_ATTEMPTS = 3


def build_registry(config: KubeConfig, interval: float) -> kopf.OperatorRegistry:
    registry = kopf.OperatorRegistry()
    kopfbase.add_login(registry, config)
    clients: dict[str, httpx.AsyncClient] = {}
    secrets: dict[tuple[str, str], tuple[float, asyncio.Task[Credentials]]] = {}

    async def read_secret(namespace: str, name: str) -> Credentials:
        # A busy API server drops or delays connections now and then; one shared read failing
        # would fail every timer waiting on it, so it is tried a few times first.
        for attempt in range(SECRET_READ_ATTEMPTS):
            try:
                response = await clients["kube"].get(f"/api/v1/namespaces/{namespace}/secrets/{name}")
                break
            except httpx.TransportError:
                if attempt == SECRET_READ_ATTEMPTS - 1:
                    raise
        response.raise_for_status()
        data = response.json().get("data") or {}
        return Credentials({k: base64.b64decode(v).decode().strip() for k, v in data.items()})

    async def credentials_for(namespace: str, name: str) -> Credentials:
        read_at, task = secrets.get((namespace, name), (0.0, None))
        stale = time.monotonic() - read_at > interval
        if task is None or stale or (task.done() and task.exception() is not None):
            task = asyncio.ensure_future(read_secret(namespace, name))
            secrets[(namespace, name)] = (time.monotonic(), task)
        return await asyncio.shield(task)

    @kopf.on.startup(registry=registry)
    async def startup(**_: Any) -> None:
        clients["providers"] = make_client()
        clients["kube"] = httpx.AsyncClient(
            base_url=config.server,
            verify=ssl.create_default_context(cafile=config.ca_file),
            headers={"Authorization": f"Bearer {config.token}"},
            timeout=httpx.Timeout(30.0, connect=10.0),
        )

    @kopf.on.cleanup(registry=registry)
    async def cleanup(**_: Any) -> None:
        for client in clients.values():
            await client.aclose()

    @kopf.timer(GROUP, VERSION, PLURAL, interval=interval, registry=registry)
    async def poll(
        spec: kopf.Spec, namespace: str | None, meta: kopf.Meta, patch: kopf.Patch, **_: Any
    ) -> None:
        parsed = CloudModelServiceSpec.model_validate(dict(spec))
        credentials = await credentials_for(str(namespace), parsed.credentialsSecretRef.name)
        target = parsed.target()
        provider = get_provider(target.provider)
        base_url = target.endpoint or provider.default_base_url(target.region)
        observation = await provider.observe(clients["providers"], base_url, target, credentials)
        patch.status.update(
            status_document(observation, target.display, meta.get("generation"), datetime.now(UTC))
        )

    return registry


if __name__ == "__main__":
    kopfbase.run(build_registry(KubeConfig.load(sys.argv[1]), float(sys.argv[2])))
