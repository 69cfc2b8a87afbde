"""The benchmark's watch process and LIST verdict against the real API server.

Attribution rests on how kube-apiserver keeps `managedFields` for status writes: a JSON patch
under a field manager takes the fields it changes and stamps that manager's `time`; fields it
leaves as they were keep their owner. This checks it on the real thing, through the watch
process the benchmark runs.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cloudmodel_dev.bench.documents import MARKER
from cloudmodel_dev.bench.kubeapi import Kube, KubeConfig, cms_path
from cloudmodel_dev.bench.observed import Seen
from cloudmodel_dev.bench.tracker import Tracker
from cloudmodel_dev.bench.verdict import check
from cloudmodel_operator.api.spec import GROUP, KIND, VERSION
from tests.conftest import Cluster
from tests.e2e.kube_helpers import install_crd

pytestmark = pytest.mark.e2e

X, Y = "cloudmodel-operator/x", "cloudmodel-operator/y"


@pytest.fixture
async def kube(cluster: Cluster) -> AsyncIterator[Kube]:
    install_crd(cluster)
    client = Kube(KubeConfig.load(cluster.kubeconfig))
    try:
        yield client
    finally:
        await client.aclose()


def _status(message: str) -> dict[str, Any]:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "phase": "Ready",
        "message": message,
        "lastSyncTime": now,
        "conditions": [
            {"type": "Synced", "status": "True", "reason": "ObservationSucceeded", "lastTransitionTime": now}
        ],
    }


async def _write(kube: Kube, namespace: str, name: str, status: dict[str, Any], manager: str | None) -> str:
    written = await kube.request(
        "PATCH",
        cms_path(namespace, name, "status"),
        [{"op": "add", "path": "/status", "value": status}],
        content_type="application/json-patch+json",
        params={"fieldManager": manager} if manager else None,
    )
    return str(written["metadata"]["resourceVersion"])


async def _event(tracker: Tracker, name: str, version: str) -> Seen:
    # The watch may deliver the write before its PATCH answer reaches the test: the present state counts.
    expectation = tracker.expect([name], lambda s: s.version == version, check_current=True)
    assert await expectation.wait(30.0), f"the watch process never reported {name} at {version}"
    tracker.release(expectation)
    return expectation.first[name]


async def test_the_watch_process_names_each_writer_and_the_list_agrees(
    kube: Kube, namespace: str, tmp_path: Path, cluster: Cluster
) -> None:
    name = f"w-{uuid.uuid4().hex[:8]}"
    manifest = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": KIND,
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "provider": "baidu-qianfan",
            "credentialsSecretRef": {"name": "creds"},
            "region": "bj",
            "instanceId": "unit-1",
        },
    }
    tracker = Tracker(cluster.kubeconfig, tmp_path / "watch.log")
    await tracker.start()
    try:
        # managedFields times are whole seconds: a write in this very second must count as since.
        started = float(int(datetime.now(UTC).timestamp()))
        await kube.create(cms_path(namespace), manifest)

        first = await _event(tracker, name, await _write(kube, namespace, name, _status("one"), X))
        assert first.status_changed
        assert first.last_writer() == X
        assert first.operator_writers_since(started) == {X}

        ours = await _write(kube, namespace, name, {**_status("stale"), "message": MARKER}, None)
        stale = await _event(tracker, name, ours)
        assert stale.marker
        # The benchmark's client is known by its user agent; x keeps the fields the stale write left alone.
        assert {m for m, _ in stale.managers} == {"cloudmodel-bench", X}
        tracker.own_versions.add(ours)

        repaired = await _event(tracker, name, await _write(kube, namespace, name, _status("two"), Y))
        assert not repaired.marker
        assert repaired.synced
        times = dict(repaired.managers)
        assert times[Y] >= times[X]  # whole seconds: y wrote last, or in the same second as x
        assert repaired.last_writer() in (Y, None)
        assert repaired.operator_writers_since(started) == {X, Y}  # two processes wrote it since the start

        assert len(tracker.status_writes(started)) == 2  # x's and y's; the benchmark's own is left out

        verdict = await check(kube, [name], started)
        assert verdict.present == 1
        assert verdict.stale_marker == 0
        assert verdict.synced == 1
        assert verdict.written_since == 1
        assert verdict.several_writers == 1
        later = await check(kube, [name], times[Y] + 1.0)
        assert later.written_since == 0  # nothing written since: a row starting now sees no writer
    finally:
        await tracker.stop()
