"""Replicas as real processes: one writer, takeover after a kill, a cut-off leader stops, shards spread."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from kubernetes import client

from cloudmodel_dev.simulator.server import SimulatorHandle, run_in_thread
from tests.conftest import Cluster
from tests.e2e.kube_helpers import cms, install_crd, secret, wait_for
from tests.netcut import CuttableProxy
from tests.operator_process import OperatorProcess, operators

pytestmark = pytest.mark.e2e

FAST_LEASES = ("--lease-duration=6s", "--renew-deadline=4s", "--retry-period=1s")
BAIDU = {"accessKey": "bce-sandbox-ak", "secretKey": "sandbox-baidu-secret"}


@pytest.fixture(scope="module")
def simulator(cluster: Cluster) -> Iterator[SimulatorHandle]:
    install_crd(cluster)
    with run_in_thread(None) as sim:
        yield sim


def create(
    cluster: Cluster, sim: SimulatorHandle, namespace: str, names: list[str], interval: str = "10s"
) -> None:
    secret(cluster, namespace, "baidu", BAIDU)
    for name in names:
        sim.set_target("baidu-qianfan", f"unit-{namespace}-{name}", state="Running")
        cluster.apply(
            cms(namespace, name, {
                "provider": "baidu-qianfan", "region": "bj", "instanceId": f"unit-{namespace}-{name}",
                "credentialsSecretRef": {"name": "baidu"}, "endpoint": sim.url, "pollInterval": interval,
            })
        )  # fmt: skip


def flip(sim: SimulatorHandle, namespace: str, names: list[str], state: str) -> None:
    for name in names:
        sim.set_target("baidu-qianfan", f"unit-{namespace}-{name}", state=state)


def phase_is(phase: str) -> Any:
    return lambda o: (o.get("status") or {}).get("phase") == phase


def lease(cluster: Cluster, namespace: str, name: str) -> dict[str, Any]:
    api = client.CoordinationV1Api(cluster.api_client())
    return api.read_namespaced_lease(name, namespace).to_dict()  # type: ignore[no-any-return]


def writes_by_resource(
    processes: list[OperatorProcess], since: datetime, expected: set[str]
) -> dict[str, list[str]]:
    """Who wrote each resource since `since`, from the processes' logs.

    A test sees a status in the API server a moment before the writer logs its write, so this
    waits (polling the logs, which have no event) until every expected resource shows up.
    """
    deadline = time.monotonic() + 10
    while True:
        writers: defaultdict[str, list[str]] = defaultdict(list)
        for process in processes:
            for at, key in process.writes():
                if at >= since:
                    writers[key].append(process.identity)
        if expected <= set(writers) or time.monotonic() > deadline:
            return writers
        time.sleep(0.2)


def test_two_replicas_have_one_writer(
    cluster: Cluster, namespace: str, simulator: SimulatorHandle, tmp_path: Path
) -> None:
    names = [f"one-{n}" for n in range(6)]
    args = (f"--lease-namespace={namespace}", "--lease-name=single", f"--namespace={namespace}")
    with operators(cluster.kubeconfig, tmp_path, ["replica-a", "replica-b"], *args) as (a, b):
        create(cluster, simulator, namespace, names)
        for name in names:
            wait_for(cluster, namespace, name, phase_is("Ready"), timeout=30)
        holder = lease(cluster, namespace, "single")["spec"]["holder_identity"]
        leader, standby = (a, b) if holder == a.identity else (b, a)
        flip(simulator, namespace, names, "Reconfiguring")
        for name in names:
            wait_for(cluster, namespace, name, phase_is("Progressing"), timeout=30)
        assert leader.total("cloudmodel_provider_requests_total") >= len(names)
        assert leader.total("cloudmodel_status_writes_total") >= 2 * len(names)
        # The standby watched everything and did nothing: no provider call, no write, no Event.
        assert standby.total("cloudmodel_provider_requests_total") == 0
        assert standby.total("cloudmodel_status_writes_total") == 0
        assert standby.writes() == []
        assert standby.total("cloudmodel_watched_resources") == len(names)
        events = client.CoreV1Api(cluster.api_client()).list_namespaced_event(namespace).items
        assert {e.reporting_instance for e in events if e.source.component == "cloudmodel-operator"} == {
            holder
        }


def test_the_standby_takes_over_within_20s_of_a_kill(
    cluster: Cluster, namespace: str, simulator: SimulatorHandle, tmp_path: Path
) -> None:
    args = (
        f"--lease-namespace={namespace}",
        "--lease-name=takeover",
        f"--namespace={namespace}",
    )  # default timings
    with operators(cluster.kubeconfig, tmp_path, ["takeover-a", "takeover-b"], *args) as (a, b):
        create(cluster, simulator, namespace, ["before"])
        wait_for(cluster, namespace, "before", phase_is("Ready"), timeout=30)
        holder = lease(cluster, namespace, "takeover")["spec"]["holder_identity"]
        leader, standby = (a, b) if holder == a.identity else (b, a)
        leader.kill()
        killed = time.monotonic()
        create(cluster, simulator, namespace, ["after"])
        wait_for(cluster, namespace, "after", phase_is("Ready"), timeout=40)
        took = time.monotonic() - killed
        assert took < 20, f"the standby served a new resource {took:.1f}s after the leader was killed"
        spec = lease(cluster, namespace, "takeover")["spec"]
        assert spec["holder_identity"] == standby.identity
        assert spec["lease_transitions"] >= 1


def test_a_leader_cut_off_from_the_api_server_stops_before_the_other_takes_over(
    cluster: Cluster, namespace: str, simulator: SimulatorHandle, tmp_path: Path
) -> None:
    names = [f"cut-{n}" for n in range(4)]
    server = urlsplit(yaml.safe_load(cluster.kubeconfig.read_text())["clusters"][0]["cluster"]["server"])
    proxy = CuttableProxy(server.port or 443)
    proxied = yaml.safe_load(cluster.kubeconfig.read_text())
    proxied["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{proxy.port}"
    through_proxy = tmp_path / "kubeconfig-proxied.yaml"
    through_proxy.write_text(yaml.safe_dump(proxied))
    args = (f"--lease-namespace={namespace}", "--lease-name=cut", f"--namespace={namespace}", *FAST_LEASES)
    a = OperatorProcess(through_proxy, tmp_path, *args, identity="cut-a")
    try:
        a.wait_ready()
        create(cluster, simulator, namespace, names)
        for name in names:
            wait_for(cluster, namespace, name, phase_is("Ready"), timeout=30)
        assert lease(cluster, namespace, "cut")["spec"]["holder_identity"] == "cut-a"
        with operators(cluster.kubeconfig, tmp_path, ["cut-b"], *args) as (b,):
            proxy.cut()
            flip(simulator, namespace, names, "Reconfiguring")  # work the leader would have to write
            for name in names:
                wait_for(cluster, namespace, name, phase_is("Progressing"), timeout=40)
            taken = lease(cluster, namespace, "cut")["spec"]
            assert taken["holder_identity"] == "cut-b"
            acquired = taken["acquire_time"].replace(tzinfo=None).astimezone().replace(tzinfo=None)
            stopped = _stopped_at(a)
            assert stopped is not None, f"cut-a never said it stopped:\n{a.log()[-2000:]}"
            assert stopped < acquired, f"cut-a stopped at {stopped}, cut-b acquired at {acquired}"
            assert [w for w in a.writes() if w[0] >= stopped] == []
            # Back on the network, the old leader stays a standby: it writes nothing, ever.
            proxy.restore()
            restored = datetime.now()
            flip(simulator, namespace, names, "Running")
            for name in names:
                wait_for(cluster, namespace, name, phase_is("Ready"), timeout=40)
            assert [w for w in a.writes() if w[0] >= stopped] == []
            expected = {f"{namespace}/{n}" for n in names}
            written = writes_by_resource([b], restored, expected)
            assert set(written) == expected, f"restored at {restored}; cut-b wrote {b.writes()}"
    finally:
        a.close()
        proxy.close()


def _stopped_at(process: OperatorProcess) -> datetime | None:
    for line in process.log().splitlines():
        if "no longer owns shard(s)" in line:
            return datetime.strptime(" ".join(line.split()[:2]), "%Y-%m-%d %H:%M:%S,%f")
    return None


def test_shards_spread_over_replicas_and_move_when_one_dies(
    cluster: Cluster, namespace: str, simulator: SimulatorHandle, tmp_path: Path
) -> None:
    names = [f"shard-{n}" for n in range(24)]
    args = (f"--lease-namespace={namespace}", "--lease-name=sharded", "--shards=6", f"--namespace={namespace}",
            *FAST_LEASES)  # fmt: skip
    with operators(cluster.kubeconfig, tmp_path, ["s-a", "s-b", "s-c"], *args) as replicas:
        create(cluster, simulator, namespace, names)
        for name in names:
            wait_for(cluster, namespace, name, phase_is("Ready"), timeout=60)
        _wait_owned(replicas, {"s-a": 2, "s-b": 2, "s-c": 2})
        since = datetime.now()
        flip(simulator, namespace, names, "Reconfiguring")
        for name in names:
            wait_for(cluster, namespace, name, phase_is("Progressing"), timeout=40)
        writers = writes_by_resource(replicas, since, {f"{namespace}/{n}" for n in names})
        assert sorted(writers) == sorted(f"{namespace}/{n}" for n in names)
        assert all(len(set(ids)) == 1 for ids in writers.values()), writers
        assert len({ids[0] for ids in writers.values()}) == 3  # every replica did a share

        dead, *alive = replicas
        dead.kill()
        _wait_owned(alive, {alive[0].identity: 3, alive[1].identity: 3}, timeout=30)
        since = datetime.now()
        flip(simulator, namespace, names, "Running")
        for name in names:
            wait_for(cluster, namespace, name, phase_is("Ready"), timeout=40)
        writers = writes_by_resource(alive, since, {f"{namespace}/{n}" for n in names})
        assert sorted(writers) == sorted(f"{namespace}/{n}" for n in names)
        assert all(len(set(ids)) == 1 for ids in writers.values()), writers
        shards = Counter(
            lease(cluster, namespace, f"sharded-shard-{s}")["spec"]["holder_identity"] for s in range(6)
        )
        assert shards == Counter({alive[0].identity: 3, alive[1].identity: 3})


def _wait_owned(processes: list[OperatorProcess], expected: dict[str, int], timeout: float = 30.0) -> None:
    """Poll each replica's metrics until it owns the expected number of shards (no event exists)."""
    deadline = time.monotonic() + timeout
    owned: dict[str, float] = {}
    while time.monotonic() < deadline:
        owned = {p.identity: p.total("cloudmodel_shard_owned") for p in processes}
        if owned == expected:
            return
        time.sleep(0.5)
    raise AssertionError(f"shard ownership {owned}, expected {expected}")


def test_after_a_takeover_the_new_owners_put_back_what_another_client_wrote(
    cluster: Cluster, namespace: str, simulator: SimulatorHandle, tmp_path: Path
) -> None:
    names = [f"edit-{n}" for n in range(30)]
    args = (f"--lease-namespace={namespace}", "--lease-name=edited", "--shards=6", f"--namespace={namespace}",
            *FAST_LEASES)  # fmt: skip
    with operators(cluster.kubeconfig, tmp_path, ["e-a", "e-b", "e-c"], *args) as replicas:
        create(cluster, simulator, namespace, names)
        for name in names:
            wait_for(cluster, namespace, name, phase_is("Ready"), timeout=60)
        _wait_owned(replicas, {"e-a": 2, "e-b": 2, "e-c": 2})
        replicas[2].kill()
        _wait_owned(replicas[:2], {"e-a": 3, "e-b": 3}, timeout=30)
        for name in names:  # another client overwrites every status
            cluster.kubectl(
                "patch", "cms", name, "-n", namespace, "--subresource=status", "--type=merge",
                "-p", '{"status": {"phase": "Failed", "message": "written by someone else"}}',
            )  # fmt: skip
        for name in names:
            wait_for(cluster, namespace, name, phase_is("Ready"), timeout=30)


def test_a_leader_watching_several_namespaces_takes_its_lease_and_works_at_once(
    cluster: Cluster, namespace: str, simulator: SimulatorHandle, tmp_path: Path
) -> None:
    # Resources exist before the replica starts, so its three watches are idle once listed: the
    # Lease requests and status writes must not wait behind them for a frame that never comes.
    namespaces = [namespace, f"{namespace}-b", f"{namespace}-c"]
    for extra in namespaces[1:]:
        cluster.kubectl("create", "namespace", extra)
    try:
        for ns in namespaces:
            create(cluster, simulator, ns, ["w-0", "w-1"])
        scope = [f"--namespace={ns}" for ns in namespaces]
        args = (f"--lease-namespace={namespace}", "--lease-name=several", *scope, *FAST_LEASES)
        with operators(cluster.kubeconfig, tmp_path, ["several-a"], *args):
            started = time.monotonic()
            for ns in namespaces:
                for name in ("w-0", "w-1"):
                    wait_for(cluster, ns, name, phase_is("Ready"), timeout=20)
            print(f"\nall six Ready {time.monotonic() - started:.1f}s after the start")
            assert lease(cluster, namespace, "several")["spec"]["holder_identity"] == "several-a"
            flip(simulator, namespace, ["w-0", "w-1"], "Reconfiguring")
            for name in ("w-0", "w-1"):
                wait_for(cluster, namespace, name, phase_is("Progressing"), timeout=20)
    finally:
        for extra in namespaces[1:]:
            cluster.kubectl("delete", "namespace", extra, "--wait=false")
