"""The reconciler against the real API server, with a scripted provider behind the provider interface."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from kubernetes import client

from cloudmodel_operator.api.observation import (
    Phase,
)
from cloudmodel_operator.api.spec import GROUP, PLURAL, VERSION
from cloudmodel_operator.metrics import Metrics
from cloudmodel_operator.providers.base import ErrorClass, ProviderError
from cloudmodel_operator.settings import Settings
from tests.conftest import Cluster
from tests.doubles import SCRIPT, observation, scripted
from tests.e2e.kube_helpers import (
    WriteCounter,
    cms,
    condition,
    events_for,
    get,
    install_crd,
    secret,
    wait_events,
    wait_for,
)
from tests.operator_runner import operator_in_thread

pytestmark = pytest.mark.e2e

ACCESS_KEY_SECRET = "s3cr3t-value-for-tests-0001"


@pytest.fixture(scope="module")
def running(cluster: Cluster) -> Iterator[Any]:
    install_crd(cluster)
    settings = Settings(
        heartbeat=timedelta(hours=1),
        terminal_recheck=timedelta(hours=1),
        credentials_recheck=timedelta(seconds=3),
        metrics_port=0,
    )
    with scripted("alibaba-hologres"), operator_in_thread(str(cluster.kubeconfig), settings) as running:
        yield running


def make(cluster: Cluster, namespace: str, name: str, instance: str, **spec: Any) -> None:
    secret(cluster, namespace, "creds", {"accessKeyId": "AKID-test", "accessKeySecret": ACCESS_KEY_SECRET})
    body = {
        "provider": "alibaba-hologres",
        "region": "cn-hangzhou",
        "instanceId": instance,
        "credentialsSecretRef": {"name": "creds"},
        "pollInterval": "10s",
    }
    body.update(spec)
    cluster.apply(cms(namespace, name, body))


def ready(obj: dict[str, Any]) -> bool:
    return condition(obj, "Ready").get("status") == "True"


def test_create_fills_status_and_becomes_ready(
    cluster: Cluster, namespace: str, running: Any, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    SCRIPT.set("hg-create", observation())
    make(cluster, namespace, "one", "hg-create")
    obj = wait_for(cluster, namespace, "one", ready, timeout=20, what="Ready=True")
    status = obj["status"]
    assert status["phase"] == "Ready"
    assert status["providerState"] == "ResourceReady"
    assert status["observedGeneration"] == obj["metadata"]["generation"]
    assert status["summary"] == {"replicas": "2/2", "services": "1/1", "gpu": "2/4", "reason": "Available"}
    assert status["resources"]["memory"] == {"total": "128Gi", "used": "64Gi"}
    assert status["services"][0]["model"] == "qwen3.5-plus"
    assert status["billing"] == {"chargeType": "PrePaid", "autoRenew": True}
    assert status["target"] == "hg-create"
    assert "lastSyncTime" in status
    assert "failure" not in status
    by_type = {c["type"]: c for c in status["conditions"]}
    assert {t: c["status"] for t, c in by_type.items()} == {
        "Ready": "True", "Synced": "True", "Reconciling": "False", "Stalled": "False",
    }  # fmt: skip
    assert by_type["Ready"]["reason"] == "Available"
    assert all(c["observedGeneration"] == obj["metadata"]["generation"] for c in status["conditions"])
    # Kopf wrote nothing of its own: no finalizer, no annotations.
    assert not obj["metadata"].get("finalizers")
    assert not any(k.startswith("kopf.") for k in (obj["metadata"].get("annotations") or {}))
    # The credentials reached the provider but no status, event or log line.
    assert SCRIPT.credentials_seen["hg-create"]["accessKeySecret"] == ACCESS_KEY_SECRET
    # A new resource's first healthy phase is in the status; it needs no Event.
    assert events_for(cluster, namespace, "one") == []
    assert ACCESS_KEY_SECRET not in json.dumps(status)
    assert ACCESS_KEY_SECRET not in caplog.text

    table = cluster.kubectl("get", "cms", "one", "-n", namespace).stdout.splitlines()
    assert table[0].split() == ["NAME", "PROVIDER", "PHASE", "READY", "REASON", "REPLICAS", "AGE"]
    assert table[1].split()[:6] == ["one", "alibaba-hologres", "Ready", "True", "Available", "2/2"]
    wide = cluster.kubectl("get", "cms", "one", "-n", namespace, "-o", "wide").stdout.splitlines()
    assert wide[0].split()[7:] == [
        "SYNCED",
        "SERVICES",
        "GPU",
        "CU",
        "TARGET",
        "REGION",
        "LAST-SYNC",
        "MESSAGE",
    ]


def test_state_change_outage_and_recovery(cluster: Cluster, namespace: str, running: Any) -> None:
    SCRIPT.set("hg-flow", observation())
    make(cluster, namespace, "flow", "hg-flow")
    wait_for(cluster, namespace, "flow", ready, timeout=20, what="Ready")

    SCRIPT.set(
        "hg-flow", observation(Phase.DEGRADED, "ResourceReady", ready=1, message="my_model: 1 replica down")
    )
    obj = wait_for(cluster, namespace, "flow", lambda o: o["status"]["phase"] == "Degraded", timeout=30)
    assert condition(obj, "Ready")["reason"] == "Degraded"
    assert obj["status"]["summary"]["replicas"] == "1/2"
    events = wait_events(cluster, namespace, "flow", lambda events: len(events) >= 1)
    assert [(e.type, e.reason) for e in events] == [("Warning", "PhaseChanged")]
    assert (
        events[0].message
        == "phase Ready -> Degraded (provider state 'ResourceReady'): my_model: 1 replica down"
    )

    SCRIPT.set("hg-flow", ProviderError(ErrorClass.TRANSIENT, "HTTP 503 from hologram", http_status=503))
    obj = wait_for(cluster, namespace, "flow", lambda o: "failure" in o["status"], timeout=90, what="failure")
    status = obj["status"]
    # The last good observation is kept ...
    assert status["phase"] == "Degraded"
    assert status["summary"]["replicas"] == "1/2"
    assert status["services"][0]["name"] == "my_model"
    # ... and the failure says what, since when, how often and whether it is retried.
    failure = status["failure"]
    assert failure["reason"] == "ProviderUnreachable"
    assert failure["errorClass"] == "transient"
    assert failure["consecutiveFailures"] >= 1
    assert failure["retrying"] is True
    assert failure["since"]
    synced = condition(obj, "Synced")
    assert (synced["status"], synced["reason"]) == ("False", "ProviderUnreachable")
    assert condition(obj, "Stalled")["status"] == "False"

    SCRIPT.set("hg-flow", observation())
    obj = wait_for(
        cluster, namespace, "flow", lambda o: "failure" not in o["status"] and ready(o), timeout=30
    )
    assert condition(obj, "Synced")["status"] == "True"
    events = wait_events(cluster, namespace, "flow", lambda events: "Recovered" in [e.reason for e in events])
    # Creation timestamps have one-second resolution, so compare the story as a multiset.
    assert sorted(e.reason for e in events) == sorted(
        ["PhaseChanged", "ProviderUnreachable", "PhaseChanged", "Recovered"]
    )


def test_spec_change_refetches_at_once(cluster: Cluster, namespace: str, running: Any) -> None:
    SCRIPT.set("hg-slow", observation())
    SCRIPT.set("hg-other", observation(Phase.PROGRESSING, "InstanceWaiting", ready=0))
    make(cluster, namespace, "slow", "hg-slow", pollInterval="1h")
    wait_for(cluster, namespace, "slow", ready, timeout=20)
    calls = SCRIPT.calls["hg-slow"]
    cluster.kubectl(
        "patch", "cms", "slow", "-n", namespace, "--type=merge", "-p", '{"spec":{"instanceId":"hg-other"}}'
    )
    obj = wait_for(
        cluster, namespace, "slow",
        lambda o: o["status"].get("observedGeneration") == 2 and o["status"]["target"] == "hg-other",
        timeout=20, what="observedGeneration 2",
    )  # fmt: skip
    assert obj["status"]["phase"] == "Progressing"
    assert condition(obj, "Reconciling") == {
        **condition(obj, "Reconciling"),
        "status": "True",
        "reason": "Progressing",
    }
    assert all(c["observedGeneration"] == 2 for c in obj["status"]["conditions"])
    assert SCRIPT.calls["hg-slow"] == calls  # the hourly poll did not run again


def test_no_status_write_while_nothing_changes(cluster: Cluster, namespace: str, running: Any) -> None:
    SCRIPT.set("hg-idle", observation())
    make(cluster, namespace, "idle", "hg-idle")
    wait_for(cluster, namespace, "idle", ready, timeout=20)
    counter = WriteCounter(cluster, namespace, "idle")
    start = SCRIPT.calls["hg-idle"]
    SCRIPT.wait_calls("hg-idle", start + 3, timeout=60)  # three idle polls (10s interval)
    writes = counter.stop()
    assert SCRIPT.calls["hg-idle"] >= start + 3
    assert writes == [], f"{len(writes)} writes during idle polls"


def test_shared_target_is_fetched_once_per_interval(cluster: Cluster, namespace: str, running: Any) -> None:
    SCRIPT.set("hg-shared", observation())
    make(cluster, namespace, "a", "hg-shared", pollInterval="1h")
    wait_for(cluster, namespace, "a", ready, timeout=20)
    make(cluster, namespace, "b", "hg-shared", pollInterval="1h")
    obj = wait_for(cluster, namespace, "b", ready, timeout=20)
    assert obj["status"]["summary"]["replicas"] == "2/2"
    assert SCRIPT.calls["hg-shared"] == 1


def test_missing_secret_then_created_without_restart(cluster: Cluster, namespace: str, running: Any) -> None:
    SCRIPT.set("hg-nocreds", observation())
    cluster.apply(
        cms(namespace, "nocreds", {
            "provider": "alibaba-hologres", "region": "cn-hangzhou", "instanceId": "hg-nocreds",
            "credentialsSecretRef": {"name": "later"},
        })
    )  # fmt: skip
    obj = wait_for(cluster, namespace, "nocreds", lambda o: "failure" in (o.get("status") or {}), timeout=20)
    synced = condition(obj, "Synced")
    assert (synced["status"], synced["reason"]) == ("False", "CredentialsMissing")
    assert f"Secret {namespace}/later not found" in synced["message"]
    assert condition(obj, "Stalled")["status"] == "True"
    assert obj["status"]["failure"]["retrying"] is False
    events = wait_events(cluster, namespace, "nocreds", lambda events: len(events) >= 1)
    assert [e.reason for e in events] == ["CredentialsMissing"]

    secret(cluster, namespace, "later", {"accessKeyId": "AKID-later"})
    obj = wait_for(
        cluster, namespace, "nocreds", lambda o: "accessKeySecret" in json.dumps(o["status"]), timeout=20
    )
    assert "credentials have no 'accessKeySecret' key" in condition(obj, "Synced")["message"]

    secret(cluster, namespace, "later", {"accessKeyId": "AKID-later", "accessKeySecret": ACCESS_KEY_SECRET})
    obj = wait_for(cluster, namespace, "nocreds", ready, timeout=20, what="Ready after the Secret was fixed")
    assert "failure" not in obj["status"]


def test_terminal_error_stalls_and_is_not_retried(cluster: Cluster, namespace: str, running: Any) -> None:
    SCRIPT.set(
        "hg-denied", ProviderError(ErrorClass.AUTH, "InvalidAccessKeyId.NotFound", code="InvalidAccessKeyId")
    )
    make(cluster, namespace, "denied", "hg-denied")
    obj = wait_for(cluster, namespace, "denied", lambda o: "failure" in (o.get("status") or {}), timeout=20)
    assert condition(obj, "Stalled") | {"status": "True", "reason": "AuthenticationFailed"} == condition(
        obj, "Stalled"
    )
    # The operator cannot see the target: Ready is Unknown (not True, not a guess), and says why.
    assert (condition(obj, "Ready")["status"], condition(obj, "Ready")["reason"]) == (
        "Unknown",
        "AuthenticationFailed",
    )
    assert obj["status"]["phase"] == "Unknown"
    assert obj["status"]["failure"]["secret"] == "creds"
    assert condition(obj, "Reconciling")["status"] == "False"
    assert SCRIPT.calls["hg-denied"] == 1  # never retried within the call


def test_suspend_stops_polling(cluster: Cluster, namespace: str, running: Any) -> None:
    SCRIPT.set("hg-susp", observation())
    make(cluster, namespace, "susp", "hg-susp")
    wait_for(cluster, namespace, "susp", ready, timeout=20)
    cluster.kubectl(
        "patch", "cms", "susp", "-n", namespace, "--type=merge", "-p", '{"spec":{"suspend":true}}'
    )
    obj = wait_for(cluster, namespace, "susp", lambda o: condition(o, "Synced").get("reason") == "Suspended")
    assert condition(obj, "Ready")["status"] == "True"  # the last observation still stands
    assert obj["status"]["observedGeneration"] == 2
    calls = SCRIPT.calls["hg-susp"]
    SCRIPT.set("hg-idle-clock", observation())
    make(cluster, namespace, "clock", "hg-idle-clock")
    SCRIPT.wait_calls("hg-idle-clock", 3, timeout=60)  # two more poll intervals pass
    assert SCRIPT.calls["hg-susp"] == calls


class GoneMetrics(Metrics):
    def __init__(self) -> None:
        super().__init__()
        self.gone = threading.Event()

    def resource_gone(self, namespace: str, name: str) -> None:
        super().resource_gone(namespace, name)
        self.gone.set()


def test_delete_stops_the_worker(cluster: Cluster, namespace: str, running: Any) -> None:
    SCRIPT.set("hg-del", observation())
    make(cluster, namespace, "del", "hg-del")
    wait_for(cluster, namespace, "del", ready, timeout=20)
    api = client.CustomObjectsApi(cluster.api_client())
    api.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "del")
    with pytest.raises(client.exceptions.ApiException) as gone:
        get(cluster, namespace, "del")
    assert gone.value.status == 404  # no finalizer held the object back
    calls = SCRIPT.calls["hg-del"]
    SCRIPT.set("hg-del-clock", observation())
    make(cluster, namespace, "clock", "hg-del-clock")
    SCRIPT.wait_calls("hg-del-clock", 3, timeout=60)
    assert SCRIPT.calls["hg-del"] == calls
