"""The control plane fails under a running operator process: API server and etcd SIGKILLed, CRD deleted.

These tests start a control plane of their own (the others share the session's), because they
kill it, delete its CRD and fill it with thousands of objects. Its etcd refuses requests over
96 KiB (`--max-request-bytes`, 1.5 MiB by default) so that a status within the operator's own
budget can be refused by the API server for its size, which the default limits never allow.
"""

from __future__ import annotations

import itertools
import random
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kubernetes import client

from cloudmodel_dev import controlplane
from cloudmodel_dev.simulator.server import SimulatorHandle, run_in_thread
from cloudmodel_operator.api.spec import GROUP, PLURAL, VERSION
from cloudmodel_operator.engine.records import RECONCILE_ANNOTATION
from tests.conftest import Cluster
from tests.e2e.faults.support import (
    CREDENTIALS,
    StatusRecorder,
    cluster_of,
    condition,
    create_many,
    new_namespace,
    phase_is,
    qianfan,
)
from tests.e2e.kube_helpers import cms, install_crd, secret, wait_events
from tests.operator_process import OperatorProcess

pytestmark = pytest.mark.e2e

ETCD_MAX_REQUEST = 96 * 1024
PROBLEM = re.compile(r"^\S+ \S+ (WARNING|ERROR|CRITICAL) ")


@pytest.fixture(scope="module")
def plane() -> Iterator[controlplane.ControlPlane]:
    with controlplane.start(extra_args={"etcd": [f"--max-request-bytes={ETCD_MAX_REQUEST}"]}) as plane:
        yield plane


@pytest.fixture(scope="module")
def own(plane: controlplane.ControlPlane) -> Cluster:
    cluster = cluster_of(plane)
    install_crd(cluster)
    return cluster


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorHandle]:
    with run_in_thread(None) as handle:
        yield handle


def problems(log: str) -> list[str]:
    return [line for line in log.splitlines() if PROBLEM.match(line) or line.startswith("Traceback")]


# -- the API server and etcd SIGKILLed under a running operator ---------------------------------


@dataclass
class Fleet:
    """Ten Qianfan units served by one operator process (with its Lease), every status version recorded."""

    cluster: Cluster
    namespace: str
    names: list[str]
    operator: OperatorProcess
    recorder: StatusRecorder
    sim: SimulatorHandle

    def unit(self, name: str) -> str:
        return f"unit-{self.namespace}-{name}"

    def flip(self, state: str) -> None:
        for name in self.names:
            self.sim.set_target("baidu-qianfan", self.unit(name), state=state)


@pytest.fixture(scope="module")
def fleet(own: Cluster, sim: SimulatorHandle, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    ns = new_namespace(own, "outages")
    secret(own, ns, "baidu", CREDENTIALS["baidu"])
    names = [f"unit-{n}" for n in range(10)]
    recorder = StatusRecorder(own, ns)
    operator = OperatorProcess(
        own.kubeconfig, tmp_path_factory.mktemp("outages"), f"--namespace={ns}", f"--lease-namespace={ns}",
        identity="outages",
    )  # fmt: skip
    fleet = Fleet(own, ns, names, operator, recorder, sim)
    try:
        fleet.flip("Running")
        for name in names:
            own.apply(qianfan(ns, name, sim.url, fleet.unit(name)))
        operator.wait_ready()
        recorder.wait_all(names, phase_is("Ready"), timeout=60)
        yield fleet
    finally:
        operator.close()
        recorder.stop()


# What the operator may say about an outage, once per outage: its watch broke, its Lease lapsed.
OUTAGE_LINES = (
    "cloudmodel_operator.kube.informer: cannot list/watch CloudModelServices in",
    "cloudmodel_operator.ha.shards: lost shard(s) [0]: renewals failed past the renew deadline",
)


@pytest.mark.parametrize(
    ("component", "seconds", "state", "phase"),
    [
        ("kube-apiserver", 20, "Reconfiguring", "Progressing"),
        ("etcd", 12, "ReconfigureFailed", "Degraded"),
        ("kube-apiserver", 75, "Running", "Ready"),
    ],
    ids=["apiserver-20s", "etcd-12s", "apiserver-75s"],
)
def test_the_operator_rides_out_a_control_plane_outage(
    plane: controlplane.ControlPlane, fleet: Fleet, component: str, seconds: int, state: str, phase: str
) -> None:
    offset = len(fleet.operator.log())
    plane.kill(component)
    killed = time.monotonic()
    # The provider changes while the operator cannot write: the change must reach the status after.
    fleet.flip(state)
    changed = time.monotonic()
    # The outage's length is what this test is about: there is nothing to wait for.
    time.sleep(max(seconds - (time.monotonic() - killed), 0.0))
    plane.restart(component)  # returns when the API server answers /readyz again
    back = time.monotonic()
    # A resource created after the outage is picked up: the watch works again.
    late = f"late-{component}-{seconds}"
    fleet.cluster.apply(qianfan(fleet.namespace, late, fleet.sim.url, fleet.unit(fleet.names[0])))
    caught_up = fleet.recorder.wait_all(fleet.names, phase_is(phase), timeout=60, since=changed)
    served = fleet.recorder.wait(late, phase_is(phase), timeout=60)
    settle = max(v.at for v in caught_up.values()) - back
    print(
        f"\n{component} down {back - killed:.0f}s: every status shows the provider's change {settle:.1f}s "
        f"after the API server answered again; a resource created then was served after {served.at - back:.1f}s"
    )
    # Every transition gets its Event once (posted after the write; the next outage must not catch
    # one in flight).
    for name in fleet.names:
        events = wait_events(
            fleet.cluster, fleet.namespace, name,
            lambda found: any(e.reason == "PhaseChanged" and f"-> {phase}" in e.message for e in found),
        )  # fmt: skip
        assert [e.count for e in events if f"-> {phase}" in e.message] == [1], name
    assert settle < 30, "writes did not resume promptly"
    assert served.at - back < 45, "the watch did not recover"  # the informer backs off up to 30s
    # Every version written since says what the provider said, nothing older (a write that timed
    # out during the outage may land and then be followed by its retry: the same status twice).
    for name in fleet.names:
        versions = [v for v in fleet.recorder.history(name) if v.at >= changed]
        assert {v.status["providerState"] for v in versions} == {state}, name
        assert len(versions) <= 2, f"{name}: {len(versions)} writes for one change"
    lines = problems(fleet.operator.log()[offset:])
    print(f"{len(lines)} warning lines: " + " | ".join(line.split(" ", 4)[4][:90] for line in lines))
    # One line per outage and component, however many resources and retries: no per-resource
    # messages and no tracebacks.
    assert len(lines) == len({line.split(" ", 3)[3] for line in lines}), lines
    assert all(any(known in line for known in OUTAGE_LINES) for line in lines), lines
    assert any(OUTAGE_LINES[1] in line for line in lines), "the lease outlived the renew deadline unnoticed"


# -- the CRD deleted and installed again while the operator runs --------------------------------


def test_the_crd_deleted_and_reinstalled(own: Cluster, sim: SimulatorHandle, tmp_path: Path) -> None:
    ns = new_namespace(own, "crd-again")
    secret(own, ns, "baidu", CREDENTIALS["baidu"])
    sim.set_target("baidu-qianfan", f"unit-{ns}", state="Running")
    recorder = StatusRecorder(own, ns)
    operator = OperatorProcess(own.kubeconfig, tmp_path, "--standalone", f"--namespace={ns}", identity="crd")
    try:
        operator.wait_ready()
        own.apply(qianfan(ns, "before", sim.url, f"unit-{ns}"))
        recorder.wait("before", phase_is("Ready"), timeout=30)
        assert operator.total("cloudmodel_watched_resources") == 1
        offset = len(operator.log())

        own.kubectl("delete", "crd", f"{PLURAL}.{GROUP}", "--wait=true", "--timeout=60s")
        deleted = recorder.wait_deleted("before", timeout=30)
        install_crd(own)
        own.apply(qianfan(ns, "after", sim.url, f"unit-{ns}"))
        served = recorder.wait("after", phase_is("Ready"), timeout=60)
        print(f"\nthe re-created resource was served {served.at - deleted.at:.1f}s after the CRD was gone")
        assert operator.process.poll() is None
        assert operator.total("cloudmodel_watched_resources") == 1  # the deleted one is forgotten
        lines = problems(operator.log()[offset:])
        assert len(lines) <= 1, lines
        assert all("is the CRD installed?" in line for line in lines), lines
    finally:
        operator.close()
        recorder.stop()


# -- a status the API server refuses for its size ----------------------------------------------


def _big_hologres_answer() -> dict[str, object]:
    """Fifty model services with every text at the operator's per-field cap: a status of ~130 KB."""
    text = "x" * 300
    return {
        "modelServiceList": [
            {
                "modelName": f"model-{n}-{text}", "modelType": text, "version": text, "taskType": text,
                "status": "Running", "message": "m" * 600, "provider": text, "instanceRegion": text,
                "serviceDeployRegion": text, "serviceCount": 1, "cpu": 1, "gpu": 1, "memory": 1, "gpuMemory": 1,
            }
            for n in range(50)
        ]
    }  # fmt: skip


def test_a_status_the_api_server_refuses_for_its_size(
    own: Cluster, sim: SimulatorHandle, tmp_path: Path
) -> None:
    ns = new_namespace(own, "too-large")
    secret(own, ns, "alibaba", CREDENTIALS["alibaba"])
    sim.set_target(
        "alibaba-hologres", f"hgpostcn-cn-{ns}", state="ResourceReady", response=_big_hologres_answer()
    )
    recorder = StatusRecorder(own, ns)
    operator = OperatorProcess(own.kubeconfig, tmp_path, "--standalone", f"--namespace={ns}", identity="big")
    try:
        operator.wait_ready()
        own.apply(cms(ns, "big", {
            "provider": "alibaba-hologres", "region": "cn-hangzhou", "instanceId": f"hgpostcn-cn-{ns}",
            "endpoint": sim.url, "credentialsSecretRef": {"name": "alibaba"}, "pollInterval": "10s",
        }))  # fmt: skip
        refused = recorder.wait("big", lambda s: "failure" in s, timeout=30).status
        assert refused["failure"]["reason"] == "StatusRejected", refused["failure"]
        assert condition(refused, "Synced")["reason"] == "StatusRejected"
        assert condition(refused, "Ready")["status"] != "True"
        assert "too large" in refused["failure"]["message"]
        assert "services" not in refused  # the observation is left out
        assert operator.total("cloudmodel_status_write_failures_total") >= 1
    finally:
        operator.close()
        recorder.stop()


# -- the operator SIGKILLed at random moments -----------------------------------------------------

# The states each unit goes through, in this order; phases Progressing, Ready, Progressing,
# Degraded, Progressing, Stopped. Every state is different, so any status that shows an earlier
# state after a later one is a regression, and every transition's Event message is unique.
PLAN = ["Creating", "Running", "Reconfiguring", "ReconfigureFailed", "Releasing", "Released"]
KILLS = 8
LATENCY = 0.6  # seconds each provider call of the units takes


def test_the_operator_sigkilled_at_random_moments(own: Cluster, sim: SimulatorHandle, tmp_path: Path) -> None:
    rng = random.Random()
    seed = rng.randrange(2**32)
    rng.seed(seed)
    print(f"\nrandom seed {seed}")
    ns = new_namespace(own, "kills")
    secret(own, ns, "baidu", CREDENTIALS["baidu"])
    secret(own, ns, "wrong", {**CREDENTIALS["baidu"], "secretKey": "not-the-baidu-secret"})
    moving = [f"m-{n}" for n in range(20)]
    position = dict.fromkeys(moving, 0)
    for name in moving:
        sim.set_target("baidu-qianfan", f"unit-{ns}-{name}", state=PLAN[0])
        # Passes last a while, so a kill often lands in the middle of one.
        sim.add_fault(
            "baidu-qianfan", f"unit-{ns}-{name}", {"kind": "latency", "seconds": LATENCY, "count": -1}
        )
    recorder = StatusRecorder(own, ns)
    for name in moving:
        own.apply(qianfan(ns, name, sim.url, f"unit-{ns}-{name}"))
    own.apply(qianfan(ns, "gone", sim.url, f"unit-{ns}-never-existed"))
    sim.set_target("baidu-qianfan", f"unit-{ns}-denied", state="Running")
    own.apply(qianfan(ns, "denied", sim.url, f"unit-{ns}-denied", secret="wrong"))
    args = (f"--namespace={ns}", f"--lease-namespace={ns}")
    api = client.CustomObjectsApi(own.api_client())
    lives: list[float] = []
    kills: list[float] = []
    processes: list[OperatorProcess] = []
    try:
        for life in range(KILLS + 1):
            # One identity throughout, as a container restarted in its pod: it takes its Lease back at once.
            (tmp_path / str(life)).mkdir()
            operator = OperatorProcess(own.kubeconfig, tmp_path / str(life), *args, identity="kills")
            processes.append(operator)
            started = time.monotonic()
            operator.wait_ready()
            if life == KILLS:
                break
            end = time.monotonic() + rng.uniform(0.2, 2.5)  # the random moment of the kill
            while time.monotonic() < end:
                # A unit moves on at the provider and somebody asks for it to be looked at now.
                name = rng.choice(moving)
                if position[name] < len(PLAN) - 1:
                    position[name] += 1
                    sim.set_target("baidu-qianfan", f"unit-{ns}-{name}", state=PLAN[position[name]])
                    request = datetime.now(UTC).isoformat(timespec="milliseconds")
                    api.patch_namespaced_custom_object(
                        GROUP,
                        VERSION,
                        ns,
                        PLURAL,
                        name,
                        {"metadata": {"annotations": {RECONCILE_ANNOTATION: request}}},
                    )
                time.sleep(0.05)  # the pace of provider changes, not a wait
            operator.kill()
            kills.append(time.monotonic())
            lives.append(kills[-1] - started)
        # The last life: every unit finishes its plan and the status must show it.
        for name in moving:
            position[name] = len(PLAN) - 1
            sim.set_target("baidu-qianfan", f"unit-{ns}-{name}", state=PLAN[-1])
        recorder.wait_all(moving, lambda s: s.get("providerState") == PLAN[-1], timeout=60)
        recorder.wait("gone", lambda s: "failure" in s, timeout=30)
        recorder.wait("denied", lambda s: "failure" in s, timeout=30)
        assert not [p.identity for p in processes if "Traceback" in p.log()]
    finally:
        for process in processes:
            process.close()
        recorder.stop()
    arrivals = [at for at, _ in sim.request_times("baidu-qianfan")]
    in_flight = [sum(1 for at in arrivals if kill - LATENCY <= at <= kill) for kill in kills]
    print(f"killed {KILLS} times after {', '.join(f'{t:.1f}' for t in lives)} s of life, with "
          f"{', '.join(map(str, in_flight))} provider calls in flight")  # fmt: skip

    writes = 0
    for name in moving:
        versions = [v for v in recorder.history(name) if v.kind == "MODIFIED"]
        writes += sum(1 for a, b in itertools.pairwise([{}, *(v.status for v in versions)]) if a != b)
        states = [PLAN.index(v.status["providerState"]) for v in versions if v.status.get("providerState")]
        assert states == sorted(states), f"{name} went back: {[PLAN[i] for i in states]}"
        for before, after in itertools.pairwise(versions):
            for kind in ("Ready", "Synced", "Reconciling", "Stalled"):
                old, new = condition(before.status, kind), condition(after.status, kind)
                if not old:
                    continue
                assert new["lastTransitionTime"] >= old["lastTransitionTime"], (name, kind)
                if new["status"] == old["status"]:
                    assert new["lastTransitionTime"] == old["lastTransitionTime"], (name, kind, old, new)
    events = client.CoreV1Api(own.api_client()).list_namespaced_event(ns).items
    counted = [(e.involved_object.name, e.reason, e.message, e.count) for e in events]
    assert [c for c in counted if c[3] != 1] == [], "an Event was posted twice"
    for name in moving:
        phases = [
            v.status["phase"]
            for v in recorder.history(name)
            if v.kind == "MODIFIED" and v.status.get("phase")
        ]
        transitions = {(a, b) for a, b in itertools.pairwise(phases) if a != b}
        for _, _, message, _ in [c for c in counted if c[0] == name and c[1] == "PhaseChanged"]:
            match = re.match(r"phase (\w+) -> (\w+)", message)
            assert match is not None, message
            assert match.groups() in transitions | {("none", phases[0])}, (name, message)
    # Terminal errors are rechecked on their own schedule (10m), not on every restart.
    assert sim.request_count("baidu-qianfan", f"unit-{ns}-never-existed") == 1
    assert sim.request_count("baidu-qianfan", f"unit-{ns}-denied") == 1
    print(f"{writes} status changes of {len(moving)} units recorded, {len(events)} Events")


# -- SIGTERM with 3,000 resources ---------------------------------------------------------------

FLEET = 3000


def test_sigterm_finishes_the_passes_in_flight(own: Cluster, sim: SimulatorHandle, tmp_path: Path) -> None:
    ns = new_namespace(own, "sigterm")
    secret(own, ns, "baidu", CREDENTIALS["baidu"])
    names = [f"u-{n}" for n in range(FLEET)]
    for name in names:
        sim.set_target("baidu-qianfan", f"unit-{ns}-{name}", state="Running")
        # Each fetch takes a while, so at any moment the workers are busy with passes in flight.
        sim.add_fault("baidu-qianfan", f"unit-{ns}-{name}", {"kind": "latency", "seconds": 1.5, "count": -1})
    api = client.CustomObjectsApi(own.api_client())
    made = time.monotonic()
    create_many(own, ns, [qianfan(ns, name, sim.url, f"unit-{ns}-{name}", interval="1h") for name in names])
    print(f"\ncreated {FLEET} resources in {time.monotonic() - made:.1f}s")
    sim.reset_counters()
    operator = OperatorProcess(
        own.kubeconfig, tmp_path, "--standalone", f"--namespace={ns}", "--rate-limit=1000", "--rate-burst=1000",
        identity="sigterm",
    )  # fmt: skip
    try:
        operator.wait_ready()
        sim.wait_requests(100, "baidu-qianfan", timeout=120)  # the engine is busy with the fleet
        took = operator.terminate(timeout=30)
        assert operator.process.returncode == 0
    finally:
        operator.close()
    called = {target for target, _ in _targets_called(sim)}
    listing = api.list_namespaced_custom_object(GROUP, VERSION, ns, PLURAL)["items"]
    written = {
        f"unit-{ns}-{o['metadata']['name']}" for o in listing if (o.get("status") or {}).get("lastSyncTime")
    }
    in_flight = re.search(r"finishing (\d+) pass\(es\) in flight", operator.log())
    print(f"SIGTERM: exited after {took:.1f}s, {in_flight and in_flight.group(1)} passes were in flight; "
          f"{len(called)} resources fetched, {len(written)} written")  # fmt: skip
    assert in_flight is not None
    assert int(in_flight.group(1)) > 0
    assert called == written, f"fetched but not written: {sorted(called - written)[:5]}"
    assert took < 8, "SIGTERM took too long"


def _targets_called(sim: SimulatorHandle) -> list[tuple[str, str]]:
    counters = sim.simulator.store.counters()["targets"].get("baidu-qianfan", {})
    return [(target, outcome) for target, outcomes in counters.items() for outcome in outcomes]
