"""Helpers for e2e tests: install the CRD, create resources, await states through watches."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import urllib3
import yaml
from kubernetes import client, watch

from cloudmodel_operator.api.spec import GROUP, KIND, PLURAL, VERSION
from tests.conftest import REPO, Cluster
from tests.e2e.crd_helpers import wait_for_crd

CRD_DIR = REPO / "crds"

Predicate = Callable[[dict[str, Any]], bool]


def install_crd(cluster: Cluster) -> None:
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "-k", str(CRD_DIR))
    wait_for_crd(cluster, f"{PLURAL}.{GROUP}")


def secret(cluster: Cluster, namespace: str, name: str, data: dict[str, str]) -> None:
    cluster.apply(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": namespace},
            "stringData": data,
        }
    )


def cms(namespace: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": KIND,
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def objects(cluster: Cluster) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(cluster.api_client())


def get(cluster: Cluster, namespace: str, name: str) -> dict[str, Any]:
    result: dict[str, Any] = objects(cluster).get_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, name
    )
    return result


def wait_for(
    cluster: Cluster, namespace: str, name: str, predicate: Predicate, *, timeout: int = 60, what: str = ""
) -> dict[str, Any]:
    """Watch the object until `predicate(obj)` holds; fail with the last seen object otherwise."""
    api = objects(cluster)
    current = api.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
    if predicate(current):
        return dict(current)
    stream = watch.Watch().stream(
        api.list_namespaced_custom_object,
        GROUP,
        VERSION,
        namespace,
        PLURAL,
        field_selector=f"metadata.name={name}",
        resource_version=current["metadata"]["resourceVersion"],
        timeout_seconds=timeout,
    )
    for event in stream:
        current = event["object"]
        if predicate(current):
            return dict(current)
    raise AssertionError(
        f"timed out after {timeout}s waiting for {what or 'condition'}; last: {current.get('status')}"
    )


def condition(obj: dict[str, Any], type_: str) -> dict[str, Any]:
    for item in (obj.get("status") or {}).get("conditions") or []:
        if item["type"] == type_:
            return dict(item)
    return {}


class WriteCounter:
    """Counts MODIFIED events of one object from a background watch."""

    def __init__(self, cluster: Cluster, namespace: str, name: str) -> None:
        self.events: list[dict[str, Any]] = []
        self.error: Exception | None = None
        self._watch = watch.Watch()
        api = objects(cluster)
        version = api.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)["metadata"][
            "resourceVersion"
        ]
        self._thread = threading.Thread(
            target=self._run, args=(api, namespace, name, version), daemon=True, name="write-counter"
        )
        self._thread.start()

    def _run(self, api: client.CustomObjectsApi, namespace: str, name: str, version: str) -> None:
        try:
            for event in self._watch.stream(
                api.list_namespaced_custom_object,
                GROUP,
                VERSION,
                namespace,
                PLURAL,
                field_selector=f"metadata.name={name}",
                resource_version=version,
                timeout_seconds=600,
            ):
                self.events.append(event)
        except Exception as exc:  # the stream dies with the control plane at teardown
            self.error = exc

    def stop(self) -> list[dict[str, Any]]:
        self._watch.stop()
        if self.error is not None:
            raise AssertionError(f"the watch counting writes failed: {self.error!r}")
        return list(self.events)


def events_for(cluster: Cluster, namespace: str, name: str) -> list[Any]:
    core = client.CoreV1Api(cluster.api_client())
    items = core.list_namespaced_event(namespace, field_selector=f"involvedObject.name={name}").items
    return sorted(items, key=lambda e: e.metadata.creation_timestamp)


def read_file(path: Path) -> str:
    return path.read_text()


def wait_events(
    cluster: Cluster, namespace: str, name: str, predicate: Callable[[list[Any]], bool], timeout: int = 30
) -> list[Any]:
    """Watch Events of one object until `predicate(events)` holds; returns them oldest first."""
    core = client.CoreV1Api(cluster.api_client())
    # Check the very listing the watch starts from, so an event posted in between is not missed.
    listing = core.list_namespaced_event(namespace, field_selector=f"involvedObject.name={name}")
    current = sorted(listing.items, key=lambda e: e.metadata.creation_timestamp)
    if predicate(current):
        return current
    for _ in watch.Watch().stream(
        core.list_namespaced_event,
        namespace,
        field_selector=f"involvedObject.name={name}",
        resource_version=listing.metadata.resource_version,
        timeout_seconds=timeout,
    ):
        current = events_for(cluster, namespace, name)
        if predicate(current):
            return current
    raise AssertionError(f"timed out waiting for events; have {[(e.type, e.reason) for e in current]}")


class NamespaceWrites:
    """Records every change (MODIFIED event) of CloudModelServices in one namespace, from a watch."""

    def __init__(self, cluster: Cluster, namespace: str) -> None:
        self.events: list[dict[str, Any]] = []
        self.error: Exception | None = None
        self.reconnects: list[Exception] = []
        self._stopped = threading.Event()
        self._watch = watch.Watch()
        api = objects(cluster)
        version = api.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)["metadata"][
            "resourceVersion"
        ]
        self._thread = threading.Thread(
            target=self._run, args=(api, namespace, version), daemon=True, name="namespace-writes"
        )
        self._thread.start()

    def _run(self, api: client.CustomObjectsApi, namespace: str, version: str) -> None:
        # A watch the API server (or a loaded machine) cuts off resumes from the last version it
        # delivered, so no change is missed; only a version the server no longer has is an error.
        while not self._stopped.is_set():
            try:
                for event in self._watch.stream(
                    api.list_namespaced_custom_object, GROUP, VERSION, namespace, PLURAL,
                    resource_version=version, timeout_seconds=600, allow_watch_bookmarks=True,
                ):  # fmt: skip
                    version = event["object"]["metadata"]["resourceVersion"]
                    if event["type"] == "MODIFIED":
                        self.events.append(event)
            except client.ApiException as exc:
                self.error = exc  # 410: changes may have been missed
                return
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                self.reconnects.append(exc)
                self._stopped.wait(0.5)

    def stop(self) -> list[dict[str, Any]]:
        self._stopped.set()
        self._watch.stop()
        if self.error is not None:
            raise AssertionError(f"the watch counting writes failed: {self.error!r}")
        return list(self.events)


def service_account_kubeconfig(cluster: Cluster, namespace: str, name: str, path: Path) -> Path:
    """A kubeconfig authenticating as a ServiceAccount with a real bound token (TokenRequest)."""
    token = cluster.kubectl("create", "token", name, "-n", namespace, "--duration=1h").stdout.strip()
    admin = yaml.safe_load(cluster.kubeconfig.read_text())
    entry = admin["clusters"][0]
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [entry],
                "users": [{"name": name, "user": {"token": token}}],
                "contexts": [{"name": name, "context": {"cluster": entry["name"], "user": name}}],
                "current-context": name,
            }
        )
    )
    return path
