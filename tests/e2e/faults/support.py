"""What the fault suite shares: sandbox accounts, resource specs, and a recorder of every status version."""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import urllib3
import yaml
from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException

from cloudmodel_dev import controlplane
from cloudmodel_operator.api.spec import GROUP, PLURAL, VERSION
from tests.conftest import Cluster
from tests.e2e.kube_helpers import cms

# The simulator's sandbox accounts (docs/simulator.md), as Secret data.
CREDENTIALS: dict[str, dict[str, str]] = {
    "alibaba": {"accessKeyId": "LTAIsandbox", "accessKeySecret": "sandbox-alibaba-secret"},
    "huawei": {"accessKey": "HWSANDBOXAK", "secretKey": "sandbox-huawei-secret"},
    "huawei-iam": {"domainName": "sandbox", "username": "operator", "password": "sandbox-password"},
    "baidu": {"accessKey": "bce-sandbox-ak", "secretKey": "sandbox-baidu-secret"},
}
PROJECT = "0c9d4a5e2b1f4c6d8e7f0a1b2c3d4e5f"  # a ModelArts project id


def qianfan(
    namespace: str, name: str, sim_url: str, unit: str, *, secret: str = "baidu", interval: str = "10s"
):
    """A Qianfan compute unit served by the simulator at `sim_url`."""
    return cms(namespace, name, {
        "provider": "baidu-qianfan", "region": "bj", "instanceId": unit, "endpoint": sim_url,
        "credentialsSecretRef": {"name": secret}, "pollInterval": interval,
    })  # fmt: skip


def cluster_of(plane: controlplane.ControlPlane) -> Cluster:
    """A `Cluster` (the session fixture's type) for a control plane a test module started itself."""
    return Cluster(
        kubeconfig=plane.kubeconfig_path(controlplane.ADMIN_USER),
        kubectl_bin=plane.kubectl,
        unprivileged_user=controlplane.UNPRIVILEGED_USER,
        unprivileged_kubeconfig=plane.kubeconfig_path(controlplane.UNPRIVILEGED_USER),
    )


def new_namespace(cluster: Cluster, name: str) -> str:
    cluster.kubectl("create", "namespace", name)
    return name


def condition(status: dict[str, Any], type_: str) -> dict[str, Any]:
    for item in status.get("conditions") or []:
        if item.get("type") == type_:
            return dict(item)
    return {}


def ready_is(value: str) -> Callable[[dict[str, Any]], bool]:
    return lambda status: condition(status, "Ready").get("status") == value


def phase_is(phase: str) -> Callable[[dict[str, Any]], bool]:
    return lambda status: status.get("phase") == phase


@dataclass(frozen=True)
class Version:
    """One version of one object, as a watch delivered it."""

    at: float  # time.monotonic() when the watch delivered it
    kind: str  # LISTED (already there when recording began), ADDED, MODIFIED, DELETED
    name: str
    uid: str
    resource_version: str
    status: dict[str, Any]


class StatusRecorder:
    """Every version of every CloudModelService in a namespace, from a watch that outlives outages.

    The watch resumes from the last version it saw when the API server comes back, so no version
    written in between is missed (etcd keeps the history the resume needs). Tests await states
    here (`wait`) instead of polling, and read the full history afterwards.
    """

    RECONNECT = 0.5  # seconds between attempts while the API server is down (there is no event for "back")

    def __init__(self, cluster: Cluster, namespace: str) -> None:
        self.namespace = namespace
        self.versions: list[Version] = []
        self._seen: set[tuple[str, str, bool]] = set()
        self.reconnects = 0
        self._cond = threading.Condition()
        self._stopped = threading.Event()
        configuration = client.Configuration()
        config.load_kube_config(config_file=str(cluster.kubeconfig), client_configuration=configuration)
        configuration.retries = 0  # this loop reconnects by itself, without urllib3's warnings
        self._api = client.CustomObjectsApi(client.ApiClient(configuration))
        self._watch: watch.Watch | None = None
        self._version = self._list()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"recorder-{namespace}")
        self._thread.start()

    def _list(self) -> str:
        deadline = time.monotonic() + 30
        while True:
            try:
                listing = self._api.list_namespaced_custom_object(GROUP, VERSION, self.namespace, PLURAL)
                break
            except ApiException as exc:
                # A CRD established a moment ago answers 429 "storage is (re)initializing" for a while.
                if exc.status != 429 or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        now = time.monotonic()
        with self._cond:
            for obj in listing["items"]:
                self._add(now, "LISTED", obj)
            self._cond.notify_all()
        return str(listing["metadata"]["resourceVersion"])

    def _add(self, at: float, kind: str, obj: dict[str, Any]) -> None:
        meta = obj.get("metadata") or {}
        seen = (meta.get("uid", ""), meta.get("resourceVersion", ""), kind == "DELETED")
        if seen in self._seen:
            return  # the same version again, from a listing after a reconnect
        self._seen.add(seen)
        self.versions.append(
            Version(at, kind, meta.get("name", ""), meta.get("uid", ""), meta.get("resourceVersion", ""),
                    obj.get("status") or {})
        )  # fmt: skip

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                self._watch = watch.Watch()
                for event in self._watch.stream(
                    self._api.list_namespaced_custom_object, GROUP, VERSION, self.namespace, PLURAL,
                    resource_version=self._version, allow_watch_bookmarks=True, timeout_seconds=120,
                ):  # fmt: skip
                    obj = event["object"]
                    self._version = obj["metadata"]["resourceVersion"]
                    if event["type"] == "BOOKMARK":
                        continue
                    with self._cond:
                        self._add(time.monotonic(), event["type"], obj)
                        self._cond.notify_all()
            except ApiException as exc:
                if exc.status == 410:  # too old: list again (what changed in between is a LISTED version)
                    with contextlib.suppress(Exception):
                        self._version = self._list()
                    continue
                self._pause()
            except (urllib3.exceptions.HTTPError, OSError, ValueError):
                self._pause()

    def _pause(self) -> None:
        self.reconnects += 1
        self._stopped.wait(self.RECONNECT)

    def stop(self) -> None:
        self._stopped.set()
        if self._watch is not None:
            self._watch.stop()

    def history(self, name: str) -> list[Version]:
        with self._cond:
            return [v for v in self.versions if v.name == name]

    def latest(self, name: str) -> Version | None:
        found = self.history(name)
        return found[-1] if found else None

    def wait(
        self,
        name: str,
        predicate: Callable[[dict[str, Any]], bool],
        *,
        timeout: float,
        since: float = 0.0,
        what: str = "",
    ) -> Version:
        """The first version of `name` delivered at or after `since` whose status satisfies `predicate`."""

        def found() -> Version | None:
            return next(
                (v for v in self.versions if v.name == name and v.at >= since and v.kind != "DELETED"
                 and predicate(v.status)), None,
            )  # fmt: skip

        with self._cond:
            if not self._cond.wait_for(lambda: found() is not None, timeout):
                last = next((v.status for v in reversed(self.versions) if v.name == name), None)
                raise AssertionError(f"{name}: no status {what} within {timeout}s; last: {last}")
            result = found()
            assert result is not None
            return result

    def wait_deleted(self, name: str, *, timeout: float) -> Version:
        """The DELETED event of `name`."""
        with self._cond:
            if not self._cond.wait_for(lambda: any(v.name == name and v.kind == "DELETED" for v in self.versions),
                                       timeout):  # fmt: skip
                raise AssertionError(f"{name} was not deleted within {timeout}s")
            return next(v for v in self.versions if v.name == name and v.kind == "DELETED")

    def wait_all(
        self, names: list[str], predicate: Callable[[dict[str, Any]], bool], *, timeout: float,
        since: float = 0.0, what: str = "",
    ) -> dict[str, Version]:  # fmt: skip
        deadline = time.monotonic() + timeout
        return {
            name: self.wait(
                name, predicate, timeout=max(deadline - time.monotonic(), 0.0), since=since, what=what
            )
            for name in names
        }


@contextlib.contextmanager
def recording(cluster: Cluster, namespace: str) -> Iterator[StatusRecorder]:
    recorder = StatusRecorder(cluster, namespace)
    try:
        yield recorder
    finally:
        recorder.stop()


def log_lines_since(log: str, offset: int) -> list[str]:
    return log[offset:].splitlines()


def peak_rss_kib(pid: int) -> int:
    """The process's peak resident set size (VmHWM) in KiB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmHWM for pid {pid}")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


def reset_peak_rss(pid: int) -> None:
    """Start a new peak: writing 5 to clear_refs resets VmHWM to the current RSS (Linux 4.0+)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def create_many(
    cluster: Cluster, namespace: str, objects: list[dict[str, Any]], *, concurrency: int = 32
) -> None:
    """Create CloudModelServices fast: one HTTP/2 connection, many requests at once.

    (Thousands of creates through the synchronous client take half a minute on two cores.)
    """
    kubeconfig = yaml.safe_load(cluster.kubeconfig.read_text())
    server = kubeconfig["clusters"][0]["cluster"]
    token = kubeconfig["users"][0]["user"]["token"]
    path = f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{PLURAL}"

    async def main() -> None:
        context = ssl.create_default_context(cafile=server["certificate-authority"])
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        async with httpx.AsyncClient(base_url=server["server"], verify=context, http2=True, headers=headers,
                                     timeout=60) as http:  # fmt: skip
            slots = asyncio.Semaphore(concurrency)

            async def create(obj: dict[str, Any]) -> None:
                async with slots:
                    response = await http.post(path, content=json.dumps(obj))
                    if response.status_code != 201:
                        raise AssertionError(
                            f"creating {obj['metadata']['name']}: {response.status_code} {response.text}"
                        )

            await asyncio.gather(*(create(obj) for obj in objects))

    asyncio.run(main())
