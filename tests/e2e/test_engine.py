"""The engine against the real API server: repair, restart without a storm, reconcile-now, Secrets by get only."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from cloudmodel_operator.api.spec import GROUP, PLURAL
from cloudmodel_operator.engine.records import RECONCILE_ANNOTATION
from cloudmodel_operator.settings import Settings
from tests.conftest import REPO, Cluster
from tests.doubles import SCRIPT, Script, observation, scripted
from tests.e2e.crd_helpers import wait_for_crd
from tests.e2e.kube_helpers import (
    NamespaceWrites,
    cms,
    condition,
    get,
    install_crd,
    secret,
    service_account_kubeconfig,
    wait_for,
)
from tests.operator_runner import operator_in_thread

pytestmark = pytest.mark.e2e

SETTINGS = Settings(heartbeat=timedelta(hours=1), terminal_recheck=timedelta(hours=1), metrics_port=0)


@pytest.fixture(scope="module")
def script(cluster: Cluster) -> Iterator[Script]:
    install_crd(cluster)
    with scripted("alibaba-hologres") as script:
        yield script


def resource(namespace: str, name: str, instance: str, **spec: Any) -> dict[str, Any]:
    body = {
        "provider": "alibaba-hologres",
        "region": "cn-hangzhou",
        "instanceId": instance,
        "credentialsSecretRef": {"name": "creds"},
        "pollInterval": "1h",
        **spec,
    }
    return cms(namespace, name, body)


def ready(obj: dict[str, Any]) -> bool:
    return condition(obj, "Ready").get("status") == "True"


def test_a_status_changed_by_another_client_is_put_back_without_a_fetch(
    cluster: Cluster, namespace: str, script: Script
) -> None:
    SCRIPT.set("hg-repair", observation())
    secret(cluster, namespace, "creds", {"accessKeyId": "AKID-r", "accessKeySecret": "repair-secret-0001"})
    with operator_in_thread(str(cluster.kubeconfig), SETTINGS):
        cluster.apply(resource(namespace, "repair", "hg-repair"))
        good = wait_for(cluster, namespace, "repair", ready, timeout=20)["status"]
        calls = SCRIPT.calls["hg-repair"]

        # Another writer claims the service failed.
        cluster.kubectl(
            "patch", "cms", "repair", "-n", namespace, "--subresource=status", "--type=merge",
            "-p", '{"status": {"phase": "Failed", "message": "edited by hand"}}',
        )  # fmt: skip
        repaired = wait_for(
            cluster, namespace, "repair", lambda o: o["status"].get("phase") == "Ready", timeout=15
        )["status"]
        assert repaired.get("message") is None
        assert repaired["conditions"] == good["conditions"]

        # Another writer wipes the status.
        cluster.kubectl(
            "patch", "cms", "repair", "-n", namespace, "--subresource=status", "--type=json",
            "-p", '[{"op": "remove", "path": "/status"}]',
        )  # fmt: skip
        restored = wait_for(cluster, namespace, "repair", ready, timeout=15)["status"]
        assert restored["summary"] == good["summary"]
        assert restored["lastSyncTime"] == good["lastSyncTime"]
        # Both repairs came from what the operator knew, not from asking the provider again.
        assert SCRIPT.calls["hg-repair"] == calls


def test_a_restart_polls_on_schedule_and_writes_nothing(
    cluster: Cluster, namespace: str, script: Script
) -> None:
    targets = [f"hg-restart-{n}" for n in range(20)]
    for target in targets:
        SCRIPT.set(target, observation())
    secret(cluster, namespace, "creds", {"accessKeyId": "AKID-s", "accessKeySecret": "restart-secret-0001"})
    with operator_in_thread(str(cluster.kubeconfig), SETTINGS):
        for n, target in enumerate(targets):
            cluster.apply(resource(namespace, f"r{n}", target, pollInterval="10s"))
        for n in range(len(targets)):
            wait_for(cluster, namespace, f"r{n}", ready, timeout=30)
    before = {target: SCRIPT.calls[target] for target in targets}
    writes = NamespaceWrites(cluster, namespace)
    with operator_in_thread(str(cluster.kubeconfig), SETTINGS):
        restarted = time.monotonic()
        SCRIPT.wait_all(targets, max(before.values()) + 1, timeout=30)
        first_calls = [
            next(t for t in SCRIPT.call_times[target] if t >= restarted) - restarted for target in targets
        ]
    changed = writes.stop()
    # Each resource was synced moments ago: its next poll is due when its interval (10 s, +10%
    # jitter) ends, not at the restart.
    assert min(first_calls) > 2.0, f"polls right after the restart: {sorted(first_calls)[:5]}"
    assert max(first_calls) < 10 * 1.1 + 2
    assert changed == [], f"{len(changed)} status writes caused by the restart"


def test_reconcile_now_annotation_fetches_at_once_and_is_echoed(
    cluster: Cluster, namespace: str, script: Script
) -> None:
    SCRIPT.set("hg-now", observation())
    secret(cluster, namespace, "creds", {"accessKeyId": "AKID-n", "accessKeySecret": "now-secret-0001"})
    with operator_in_thread(str(cluster.kubeconfig), SETTINGS):
        cluster.apply(resource(namespace, "now", "hg-now"))
        wait_for(cluster, namespace, "now", ready, timeout=20)
        assert SCRIPT.calls["hg-now"] == 1
        for request in ("2026-11-30T10:00:00Z", "2026-11-30T10:05:00Z"):
            cluster.kubectl(
                "annotate", "--overwrite", "cms", "now", "-n", namespace, f"{RECONCILE_ANNOTATION}={request}"
            )
            obj = wait_for(
                cluster,
                namespace,
                "now",
                lambda o, r=request: o["status"].get("lastHandledReconcileAt") == r,
                timeout=15,
            )
            assert RECONCILE_ANNOTATION in obj["metadata"]["annotations"]  # the operator never removes it
        assert SCRIPT.calls["hg-now"] == 3


@pytest.fixture(scope="module")
def service_account(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped install's identity and rights (no list or watch on Secrets)."""
    cluster.kubectl("apply", "-k", str(REPO / "manifests"))
    wait_for_crd(cluster, f"{PLURAL}.{GROUP}")
    path = tmp_path_factory.mktemp("sa") / "kubeconfig.yaml"
    return service_account_kubeconfig(cluster, "cloudmodel-system", "cloudmodel-operator", path)


def test_a_fixed_secret_is_picked_up_with_get_only(
    cluster: Cluster, namespace: str, script: Script, service_account: Path
) -> None:
    for verb in ("list", "watch"):
        allowed = cluster.kubectl(
            "auth", "can-i", verb, "secrets", "-n", namespace,
            "--as=system:serviceaccount:cloudmodel-system:cloudmodel-operator", check=False,
        ).stdout.strip()  # fmt: skip
        assert allowed == "no", f"the shipped RBAC lets the operator {verb} Secrets"
    SCRIPT.set("hg-fix", observation())
    secret(cluster, namespace, "creds", {"accessKeyId": "AKID-f"})  # the secret key is missing
    settings = Settings(
        heartbeat=timedelta(hours=1),
        terminal_recheck=timedelta(hours=1),
        credentials_recheck=timedelta(seconds=4),
        metrics_port=0,
    )
    with operator_in_thread(str(service_account), settings) as running:
        cluster.apply(resource(namespace, "fix", "hg-fix"))
        broken = wait_for(
            cluster, namespace, "fix", lambda o: "failure" in (o.get("status") or {}), timeout=20
        )
        assert broken["status"]["failure"]["reason"] == "CredentialsMissing"
        assert broken["status"]["failure"]["secret"] == "creds"
        fixed_at = time.monotonic()
        secret(cluster, namespace, "creds", {"accessKeyId": "AKID-f", "accessKeySecret": "fixed-secret-0001"})
        wait_for(cluster, namespace, "fix", ready, timeout=20)
        took = time.monotonic() - fixed_at
        assert took < 4 + 4, f"the fix took {took:.1f}s to be noticed (recheck 4s)"
        reads = running.metrics.kube_requests.labels("get", "200")._value.get()
        assert reads >= 2  # the Secret was read with get, again after the fix
        assert get(cluster, namespace, "fix")["status"].get("failure") is None


def test_a_metadata_watch_picks_a_fixed_secret_up_at_once(
    cluster: Cluster, namespace: str, script: Script
) -> None:
    SCRIPT.set("hg-watch", observation())
    secret(cluster, namespace, "creds", {"accessKeyId": "AKID-w"})  # the secret key is missing
    settings = Settings(
        heartbeat=timedelta(hours=1),
        terminal_recheck=timedelta(hours=1),
        credentials_recheck=timedelta(hours=1),  # no recheck timer could explain a quick pickup
        watch_secret_metadata=True,
        metrics_port=0,
    )
    with operator_in_thread(str(cluster.kubeconfig), settings):
        cluster.apply(resource(namespace, "watch", "hg-watch"))
        wait_for(cluster, namespace, "watch", lambda o: "failure" in (o.get("status") or {}), timeout=20)
        fixed_at = time.monotonic()
        secret(
            cluster, namespace, "creds", {"accessKeyId": "AKID-w", "accessKeySecret": "watched-secret-0001"}
        )
        wait_for(cluster, namespace, "watch", ready, timeout=20)
        assert time.monotonic() - fixed_at < 5


def test_a_first_start_never_has_more_fetches_in_flight_than_workers(
    cluster: Cluster, namespace: str, script: Script
) -> None:
    targets = [f"hg-first-{n}" for n in range(60)]
    for target in targets:
        SCRIPT.set(target, observation())
    secret(cluster, namespace, "creds", {"accessKeyId": "AKID-1st", "accessKeySecret": "first-secret-0001"})
    for n, target in enumerate(targets):  # all there before the operator starts: all due at once
        cluster.apply(resource(namespace, f"f{n}", target))
    SCRIPT.latency, SCRIPT.max_in_flight = 0.2, 0
    settings = Settings(
        heartbeat=timedelta(hours=1), workers=4, metrics_port=0, rate_limit=1000, rate_burst=1000
    )
    try:
        with operator_in_thread(str(cluster.kubeconfig), settings) as running:
            SCRIPT.wait_all(targets, 1, timeout=60)
            late = running.metrics.poll_lateness.collect()[0].samples
    finally:
        SCRIPT.latency = 0.0
    assert SCRIPT.max_in_flight == 4  # the bounded pool, not one fetch per resource at once
    # 60 polls of 0.2 s through 4 workers: the last start about 3 s after it was due, and it says so.
    count = next(s.value for s in late if s.name.endswith("_count"))
    total = next(s.value for s in late if s.name.endswith("_sum"))
    assert count >= len(targets)
    assert total / count > 0.5


def test_kubectl_get_fits_120_columns_and_shows_what_is_wrong(
    cluster: Cluster, namespace: str, script: Script
) -> None:
    from cloudmodel_operator.providers.base import ErrorClass, ProviderError

    SCRIPT.set("hg-fine", observation())
    SCRIPT.set("hg-denied-view", ProviderError(ErrorClass.AUTH, "denied", code="InvalidAccessKeyId"))
    secret(cluster, namespace, "creds", {"accessKeyId": "AKID-v", "accessKeySecret": "view-secret-0001"})
    with operator_in_thread(str(cluster.kubeconfig), SETTINGS):
        # Names as long as teams write them (and the longest provider name).
        cluster.apply(resource(namespace, "qwen-embeddings-prod-cn-hangzhou", "hg-fine"))
        cluster.apply(resource(namespace, "qwen-embeddings-prod-cn-shanghai", "hg-denied-view"))
        wait_for(cluster, namespace, "qwen-embeddings-prod-cn-hangzhou", ready, timeout=20)
        wait_for(
            cluster, namespace, "qwen-embeddings-prod-cn-shanghai",
            lambda o: "failure" in (o.get("status") or {}), timeout=20,
        )  # fmt: skip
        table = cluster.kubectl("get", "cms", "-n", namespace).stdout.splitlines()
    assert max(len(line) for line in table) <= 120, "\n".join(table)
    rows = {line.split()[0]: line.split() for line in table[1:]}
    # The failing resource does not look healthy: READY and REASON say so without -o wide.
    assert rows["qwen-embeddings-prod-cn-shanghai"][2:5] == ["Unknown", "Unknown", "AuthenticationFailed"]
    assert rows["qwen-embeddings-prod-cn-hangzhou"][2:6] == ["Ready", "True", "Available", "2/2"]
