"""Resources come and go under the operator: 300 at once, and one deleted in the middle of its fetch.

The operator runs in this process so the test can look into its engine afterwards: a deleted
resource must leave no record, no index entry, no queued pass and no metrics series behind, and
a status meant for a deleted object must never land on the one re-created under its name.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

import pytest
from kubernetes import client
from prometheus_client import generate_latest

from cloudmodel_dev.simulator.server import SimulatorHandle, run_in_thread
from cloudmodel_operator.api.spec import GROUP, PLURAL, VERSION
from cloudmodel_operator.settings import Settings
from tests.conftest import Cluster
from tests.e2e.faults.support import CREDENTIALS, StatusRecorder, new_namespace, phase_is, qianfan
from tests.e2e.kube_helpers import install_crd, secret
from tests.operator_runner import RunningOperator, operator_in_thread

pytestmark = pytest.mark.e2e

ALLOW_LOOPBACK = r"http://127\.0\.0\.1:\d+/?"


class Problems(logging.Handler):
    """Every WARNING or worse the operator logs."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@dataclass
class World:
    cluster: Cluster
    namespace: str
    sim: SimulatorHandle
    operator: RunningOperator
    problems: Problems
    gone: threading.Condition
    forgotten: list[str]  # names the engine forgot, in order


@pytest.fixture
def world(cluster: Cluster) -> Iterator[World]:
    install_crd(cluster)
    ns = new_namespace(cluster, f"churn-{uuid.uuid4().hex[:8]}")
    secret(cluster, ns, "baidu", CREDENTIALS["baidu"])
    settings = Settings(
        namespaces=(ns,), rate_limit=1000.0, rate_burst=1000, kube_qps=200.0, kube_burst=200,
        heartbeat=timedelta(hours=1), metrics_port=0,
        allow_endpoints=(ALLOW_LOOPBACK,),
    )  # fmt: skip
    problems = Problems()
    logging.getLogger("cloudmodel_operator").addHandler(problems)
    try:
        with run_in_thread(None) as sim, operator_in_thread(str(cluster.kubeconfig), settings) as operator:
            gone, forgotten = threading.Condition(), []
            original = operator.metrics.resource_gone

            def resource_gone(namespace: str, name: str) -> None:  # the engine forgetting a resource
                original(namespace, name)
                with gone:
                    forgotten.append(name)
                    gone.notify_all()

            operator.metrics.resource_gone = resource_gone  # type: ignore[method-assign]
            yield World(cluster, ns, sim, operator, problems, gone, forgotten)
    finally:
        logging.getLogger("cloudmodel_operator").removeHandler(problems)


def _status_patches(world: World, code: str) -> float:
    return world.operator.metrics.kube_requests.labels("patch", code)._value.get()


def test_300_resources_created_and_deleted_at_once(world: World) -> None:
    ns, sim = world.namespace, world.sim
    names = [f"r-{n}" for n in range(300)]
    for name in names:
        sim.set_target("baidu-qianfan", f"unit-{ns}-{name}", state="Running")
        sim.set_target("baidu-qianfan", f"unit-{ns}-{name}-new", state="Reconfiguring")
        # Fetches take a moment, so passes are in flight when the resources go.
        sim.add_fault("baidu-qianfan", f"unit-{ns}-{name}", {"kind": "latency", "seconds": 0.3, "count": -1})
    api = client.CustomObjectsApi(world.cluster.api_client())

    def create(suffix: str) -> None:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda name: api.create_namespaced_custom_object(
                GROUP, VERSION, ns, PLURAL, qianfan(ns, name, sim.url, f"unit-{ns}-{name}{suffix}")), names))  # fmt: skip

    recorder = StatusRecorder(world.cluster, ns)
    try:
        create("")
        sim.wait_requests(50, "baidu-qianfan", timeout=60)  # the operator is at work on them
        world.cluster.kubectl("delete", "cms", "--all", "-n", ns, "--wait=false")
        with world.gone:
            assert world.gone.wait_for(lambda: len(set(world.forgotten) & set(names)) == len(names), 60)
        # The same names again, for other targets: nothing meant for the old objects may land here.
        create("-new")
        recorder.wait_all(names, phase_is("Progressing"), timeout=120)
        world.cluster.kubectl("delete", "cms", "--all", "-n", ns, "--wait=false")
        with world.gone:
            assert world.gone.wait_for(lambda: len(world.forgotten) == 2 * len(names), 60)
    finally:
        recorder.stop()
    successors = {v.uid for v in recorder.versions if v.status.get("providerState") == "Reconfiguring"}
    wrong = [
        v.name
        for v in recorder.versions
        if v.uid in successors and v.status.get("providerState") == "Running"
    ]
    written = sum(1 for v in recorder.versions if v.kind == "MODIFIED")
    assert len(successors) == len(names)
    refused = _status_patches(world, "404") + _status_patches(world, "422")
    print(f"\n300 created, deleted and created again: {written} status writes seen, {refused:.0f} writes "
          f"refused as meant for a deleted object, {len(wrong)} landed on the wrong one")  # fmt: skip
    assert wrong == [], "a status meant for a deleted object landed on its successor"
    engine = world.operator.operator.engine
    assert [k for k in engine.records if k[0] == ns] == []
    assert [k for k in engine.by_secret if k[0] == ns] == []
    assert [k for keys in engine.by_shard.values() for k in keys if k[0] == ns] == []
    assert [k for k in engine._running if k[0] == ns] == []
    assert engine.queue.when((ns, names[0])) is None
    assert not engine._demand, "budget demand of deleted resources is still counted"
    metrics = generate_latest(world.operator.metrics.registry).decode()
    # Per-resource series go with the resource. (The Secret's own health series stay while the
    # Secret is cached: the operator's housekeeping drops unused Secrets once a minute.)
    left = [line for line in metrics.splitlines() if f'namespace="{ns}"' in line and "secret=" not in line]
    assert left == [], "metrics series of deleted resources remain"
    assert "cloudmodel_watched_resources 0.0" in metrics
    assert world.problems.lines == []


def test_a_resource_deleted_during_its_fetch_gets_no_status_and_its_successor_no_stale_one(
    world: World,
) -> None:
    ns, sim = world.namespace, world.sim
    old, new = f"unit-{ns}-old", f"unit-{ns}-new"
    sim.set_target("baidu-qianfan", old, state="Running")
    sim.add_fault(
        "baidu-qianfan", old, {"kind": "latency", "seconds": 4, "count": -1}
    )  # within the 5s deadline
    sim.set_target("baidu-qianfan", new, state="Reconfiguring")
    recorder = StatusRecorder(world.cluster, ns)
    try:
        world.cluster.apply(qianfan(ns, "svc", sim.url, old))
        sim.wait_requests(1, "baidu-qianfan", old, timeout=30)  # the fetch is under way
        world.cluster.kubectl("delete", "cms", "svc", "-n", ns)
        with world.gone:
            assert world.gone.wait_for(lambda: "svc" in world.forgotten, 30)
        world.cluster.apply(qianfan(ns, "svc", sim.url, new))
        served = recorder.wait("svc", phase_is("Progressing"), timeout=30)
    finally:
        recorder.stop()
    uids = {v.uid for v in recorder.versions}
    assert len(uids) == 2
    statuses = [v for v in recorder.versions if v.status]
    assert statuses
    assert all(v.uid == served.uid for v in statuses), "a status landed on the deleted object"
    assert all(v.status["target"] == new for v in statuses), "the old target's answer reached the new object"
    # The pass was stopped with the deletion: no write was even tried.
    assert _status_patches(world, "404") + _status_patches(world, "422") == 0
    assert world.problems.lines == []
