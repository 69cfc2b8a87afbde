"""Every provider end to end: the operator, the real apiserver and the provider simulator.

The simulator checks each request's signature with verifiers of its own and counts calls, so
these tests see the real signing code, the real mapping and the retry policy at work.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from prometheus_client import start_http_server
from prometheus_client.parser import text_string_to_metric_families

from cloudmodel_dev.controlplane import free_port
from cloudmodel_dev.simulator.bodies import SECRET_VALUES
from cloudmodel_dev.simulator.bodies import hologres as hologres_body
from cloudmodel_dev.simulator.bodies import qianfan as qianfan_body
from cloudmodel_dev.simulator.scenario import load_scenario
from cloudmodel_dev.simulator.server import SimulatorHandle, run_in_thread
from cloudmodel_operator.api.spec import GROUP, PLURAL, VERSION
from cloudmodel_operator.settings import Settings
from tests.conftest import Cluster
from tests.e2e.kube_helpers import cms, condition, install_crd, secret, wait_for
from tests.operator_runner import RunningOperator, operator_in_thread

pytestmark = pytest.mark.e2e

ALLOW_LOOPBACK = r"http://127\.0\.0\.1:\d+/?"
PROJECT = "0c9d4a5e2b1f4c6d8e7f0a1b2c3d4e5f"

# Secret keys and the sandbox accounts the simulator accepts.
CREDENTIALS = {
    "alibaba": {"accessKeyId": "LTAIsandbox", "accessKeySecret": "sandbox-alibaba-secret"},
    "huawei": {"accessKey": "HWSANDBOXAK", "secretKey": "sandbox-huawei-secret"},
    "huawei-iam": {"domainName": "sandbox", "username": "operator", "password": "sandbox-password"},
    "baidu": {"accessKey": "bce-sandbox-ak", "secretKey": "sandbox-baidu-secret"},
}
WRONG = {
    "alibaba": {"accessKeyId": "LTAIsandbox", "accessKeySecret": "not-the-secret"},
    "huawei": {"accessKey": "HWSANDBOXAK", "secretKey": "not-the-secret"},
    "baidu": {"accessKey": "bce-sandbox-ak", "secretKey": "not-the-secret"},
}
IDENTITY_KEYS = {"accessKeyId", "accessKey", "domainName", "username"}  # names, not secrets
ALL_CREDENTIAL_SECRETS = [
    v for creds in CREDENTIALS.values() for k, v in creds.items() if k not in IDENTITY_KEYS
]


@dataclass(frozen=True)
class Provider:
    value: str
    account: str
    region: str
    auth_code: str  # the simulator's answer to a bad signature
    not_found_code: str
    make_id: Any = None  # suffix -> simulator target id
    spec_fields: Any = None  # simulator target id -> spec fields
    states: dict[str, str] = field(default_factory=dict)


PROVIDERS = [
    Provider(
        "alibaba-hologres", "alibaba", "cn-hangzhou", "SignatureDoesNotMatch", "InvalidInstanceId.NotFound",
        make_id=lambda s: f"hgpostcn-cn-{s}",
        spec_fields=lambda i: {"instanceId": i},
    ),
    Provider(
        "alibaba-guardrail", "alibaba", "cn-shanghai", "SignatureDoesNotMatch", "ModelInstanceNotExist",
        make_id=lambda s: f"{abs(hash(s)) % 10**6 + 2000}/scene-2",
        spec_fields=lambda i: {"modelInstanceId": int(i.split("/")[0]), "sceneType": 2},
    ),
    Provider(
        "huawei-modelarts", "huawei", "cn-north-4", "APIG.0301", "ModelArts.3502",
        make_id=lambda s: f"{PROJECT}/{_uuid(s)}",
        spec_fields=lambda i: {"projectId": i.split("/")[0], "serviceId": i.split("/")[1]},
    ),
    Provider(
        "baidu-qianfan", "baidu", "bj", "SignatureDoesNotMatch", "ResourceNotFound",
        make_id=lambda s: f"unit-{s}",
        spec_fields=lambda i: {"instanceId": i},
    ),
]  # fmt: skip
BY_VALUE = {p.value: p for p in PROVIDERS}


def _uuid(seed: str) -> str:
    import hashlib

    h = hashlib.md5(seed.encode(), usedforsecurity=False).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"


class LogCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@dataclass
class World:
    cluster: Cluster
    simulator: SimulatorHandle
    operator: RunningOperator
    metrics_url: str
    logs: LogCollector


@pytest.fixture(scope="module")
def world(cluster: Cluster) -> Iterator[World]:
    install_crd(cluster)
    logs = LogCollector()
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(logs)
    root.setLevel(logging.DEBUG)
    settings = Settings(
        heartbeat=timedelta(hours=1),
        terminal_recheck=timedelta(hours=1),
        metrics_port=0,
        allow_endpoints=(ALLOW_LOOPBACK,),
    )
    try:
        with (
            run_in_thread(load_scenario(None)) as simulator,
            operator_in_thread(str(cluster.kubeconfig), settings) as operator,
        ):
            port = free_port()
            server, thread = start_http_server(port, addr="127.0.0.1", registry=operator.metrics.registry)
            try:
                yield World(cluster, simulator, operator, f"http://127.0.0.1:{port}/metrics", logs)
            finally:
                server.shutdown()
                thread.join(timeout=5)
    finally:
        root.removeHandler(logs)
        root.setLevel(previous_level)


def create(
    world: World,
    namespace: str,
    name: str,
    provider: Provider,
    target_id: str,
    account: str,
    interval: str = "10s",
) -> None:
    creds = CREDENTIALS[account] if account in CREDENTIALS else WRONG[account.removeprefix("wrong-")]
    secret(world.cluster, namespace, f"creds-{account}", creds)
    spec = {
        "provider": provider.value,
        "region": provider.region,
        **provider.spec_fields(target_id),
        "endpoint": world.simulator.url,
        "credentialsSecretRef": {"name": f"creds-{account}"},
        "pollInterval": interval,
    }
    world.cluster.apply(cms(namespace, name, spec))


def status_of(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.get("status") or {}


# -- one resource per provider, each reaching its phase with everything filled ------------------

SANDBOX_TARGETS = {
    "alibaba-hologres": ("hgpostcn-cn-sandbox-ready", "alibaba"),
    "alibaba-guardrail": ("1001/scene-2", "alibaba"),
    "huawei-modelarts": (f"{PROJECT}/6f1c2b9e-3d4a-4b8c-9e7f-1a2b3c4d5e6f", "huawei"),
    "baidu-qianfan": ("unit-sandbox-running", "baidu"),
}


@pytest.mark.parametrize("value", list(SANDBOX_TARGETS))
def test_provider_resource_becomes_ready_with_everything_filled(
    world: World, namespace: str, value: str
) -> None:
    provider = BY_VALUE[value]
    target_id, account = SANDBOX_TARGETS[value]
    world.simulator.reset_counters()
    create(world, namespace, "svc", provider, target_id, account)
    obj = wait_for(
        world.cluster, namespace, "svc", lambda o: status_of(o).get("phase") == "Ready", timeout=30
    )
    status = obj["status"]
    assert condition(obj, "Ready")["status"] == "True"
    assert condition(obj, "Synced")["status"] == "True"
    # The guardrail API documents no lifecycle state: its providerState stays unset.
    assert bool(status.get("providerState")) is (value != "alibaba-guardrail")
    assert status["requestId"]
    assert status["target"]
    assert world.simulator.request_count(provider=value, target=target_id, outcome="ok") >= 1
    if value == "alibaba-hologres":
        assert status["resources"]["cpu"] == {"total": "32", "used": "32"}
        assert status["resources"]["memory"] == {"total": "128Gi", "used": "64Gi"}
        assert status["resources"]["gpu"] == {"total": "4", "used": "2"}
        assert status["replicas"] == {"desired": 2, "ready": 2}
        assert status["services"][0]["name"] == "my_model"
        assert status["services"][0]["model"] == "qwen3.5-plus"
        # The simulator's subscription, relative to its start; the status drops the milliseconds.
        assert status["billing"]["expirationTime"] == hologres_body.EXPIRATION_TIME.replace(".000Z", "Z")
        assert status["billing"]["chargeType"] == "PrePaid"
        assert status["summary"] == {
            "replicas": "2/2",
            "services": "1/1",
            "gpu": "2/4",
            "reason": "Available",
        }
    elif value == "baidu-qianfan":
        assert status["resources"]["computeUnits"] == {"total": "4", "used": "2"}
        assert status["services"][0]["name"] == "sandbox-chat"
        assert status["billing"]["expirationTime"] == qianfan_body.EXPIRED_TIME
        assert status["summary"]["computeUnits"] == "2/4"
    elif value == "huawei-modelarts":
        assert status["services"], status
        assert status["replicas"]["desired"] >= 1
        assert any(e["type"] == "access" for e in status["endpoints"])
    else:
        assert {e["type"] for e in status["endpoints"]} >= {"public", "vpc"}
        assert status["services"][0]["name"] == "rai_content_detection_model"
    table = world.cluster.kubectl("get", "cms", "svc", "-n", namespace).stdout.splitlines()
    assert table[1].split()[:5] == ["svc", value, "Ready", "True", "Available"]


def test_huawei_iam_password_credentials_fetch_and_reuse_a_token(world: World, namespace: str) -> None:
    provider = BY_VALUE["huawei-modelarts"]
    target_id = f"{PROJECT}/6f1c2b9e-3d4a-4b8c-9e7f-1a2b3c4d5e6f"
    create(world, namespace, "iam", provider, target_id, "huawei-iam")
    obj = wait_for(
        world.cluster, namespace, "iam", lambda o: status_of(o).get("phase") == "Ready", timeout=30
    )
    assert condition(obj, "Synced")["reason"] == "ObservationSucceeded"


# -- failure classes: condition reason and retry behaviour, counted at the simulator ----------

FAULTS = [
    # name, fault, expected Synced reason, retrying, calls per poll
    ("unavailable", {"kind": "error", "status": 503, "count": -1}, "ProviderUnreachable", True, 3),
    # A connection closed in the middle of an answer is a network error, as the README promises.
    ("cutoff", {"kind": "truncated", "count": -1}, "ProviderUnreachable", True, 3),
    ("badjson", {"kind": "bad-json", "count": -1}, "InvalidResponse", True, 3),
    ("bomb", {"kind": "gzip-bomb", "size": 64 * 1024 * 1024, "count": -1}, "InvalidResponse", True, 3),
    ("deep", {"kind": "deep-nesting", "count": -1}, "InvalidResponse", True, 3),
    ("nan", {"kind": "bad-numbers", "numbers": "negative", "count": -1}, "InvalidResponse", True, 3),
    ("throttled", {"kind": "throttle", "count": -1, "retryAfter": 0.2}, "Throttled", True, 3),
    ("notfound", {"kind": "not-found", "count": -1}, "NotFound", False, 1),
]


@pytest.mark.parametrize("value", [p.value for p in PROVIDERS])
def test_failure_classes_give_reasons_and_retry_as_documented(
    world: World, namespace: str, value: str
) -> None:
    provider = BY_VALUE[value]
    account = provider.account
    cases: dict[str, tuple[str, str, bool, int]] = {}
    for name, fault, reason, retrying, calls in FAULTS:
        target_id = provider.make_id(f"{namespace}-{name}")
        world.simulator.set_target(value, target_id)
        world.simulator.add_fault(value, target_id, fault)
        # 60 s: the fetch's deadline (half the interval) leaves room for every retry, whatever the load.
        create(world, namespace, name, provider, target_id, account, interval="60s")
        cases[name] = (target_id, reason, retrying, calls)
    # Bad credentials: refused by the simulator's verifier, never retried.
    auth_target = provider.make_id(f"{namespace}-auth")
    world.simulator.set_target(value, auth_target)
    create(world, namespace, "auth", provider, auth_target, f"wrong-{account}")
    cases["auth"] = (auth_target, "AuthenticationFailed", False, 1)
    # Throttled twice, then fine: retried after Retry-After within one poll.
    recover_target = provider.make_id(f"{namespace}-recovers")
    world.simulator.set_target(value, recover_target)
    world.simulator.add_fault(value, recover_target, {"kind": "throttle", "count": 2, "retryAfter": 0.2})
    create(world, namespace, "recovers", provider, recover_target, account)

    for name, (target_id, reason, retrying, calls) in cases.items():
        obj = wait_for(
            world.cluster, namespace, name, lambda o: "failure" in status_of(o), timeout=60, what=name
        )
        failure = obj["status"]["failure"]
        assert (failure["reason"], failure["retrying"]) == (reason, retrying), (name, failure)
        assert condition(obj, "Synced")["reason"] == reason
        assert condition(obj, "Stalled")["status"] == ("False" if retrying else "True")
        assert world.simulator.request_count(provider=value, target=target_id) == calls, name
        if name == "auth":
            assert provider.auth_code in failure["message"]
        if name == "notfound":
            assert provider.not_found_code in failure["message"]
    obj = wait_for(
        world.cluster, namespace, "recovers", lambda o: status_of(o).get("phase") == "Ready", timeout=60
    )
    assert "failure" not in obj["status"]
    assert world.simulator.request_count(provider=value, target=recover_target) == 3


# -- the seed documents' own examples, verbatim, through a signed request and the real apiserver --

SEED_EXAMPLES = {
    # provider: (target id, account, expected phase, replicas, why)
    "alibaba-hologres": ("hgpostcn-cn-7mz2vmuxxxx", "alibaba", "Ready", {"desired": 2, "ready": 2},
                         "node ResourceReady, service Running; its message 'Failed' is shown, not judged"),
    "huawei-modelarts": (f"{PROJECT}/f76f20ba-78f5-44e8-893a-37c8c600c02f", "huawei", "Progressing",
                         {"desired": 1, "ready": 0}, "service running, its only config notReady with 0 ready"),
    "baidu-qianfan": ("unit-xxx", "baidu", "Ready", None, "unit Running, service Serving; no replica count"),
    "alibaba-guardrail": ("123/scene-2", "alibaba", "Ready", None, "URLs present; no lifecycle state"),
}  # fmt: skip


@pytest.mark.parametrize("value", list(SEED_EXAMPLES))
def test_seed_example_through_the_operator(world: World, namespace: str, value: str) -> None:
    target_id, account, phase, replicas, why = SEED_EXAMPLES[value]
    create(world, namespace, "seed", BY_VALUE[value], target_id, account)
    obj = wait_for(world.cluster, namespace, "seed", lambda o: "phase" in status_of(o) and "lastSyncTime" in
                   status_of(o), timeout=30)  # fmt: skip
    status = obj["status"]
    assert status["phase"] == phase, why
    assert status.get("replicas") == replicas, why
    assert condition(obj, "Ready")["status"] == ("True" if phase == "Ready" else "False")
    if value == "alibaba-guardrail":
        assert "providerState" not in status  # Code "00000" is not a state
    if value == "huawei-modelarts":
        assert status["message"] == "jar-model: notReady (0/1 instances ready)"
        assert "invocationTimes" not in status.get("attributes", {})  # counters are metrics only
    if value == "alibaba-hologres":
        assert status["services"][0]["message"] == "Failed"
        assert status["services"][0]["resources"] == {
            "total": {"cpu": "32", "memory": "32Gi", "gpu": "2", "gpuMemory": "32Gi"}
        }


# -- secrets never reach a status, an event or a log line ---------------------------------------

HUAWEI_ACCOUNTS = ["huawei", "huawei-iam"]  # AK/SK signing, and an IAM password exchanged for a token


def test_credentials_echoed_in_every_text_reach_no_status(world: World, namespace: str) -> None:
    # Each provider quotes the request's credentials back in every text of its answer; the sweep
    # below then finds none of them in any status, Event or log line.
    made = []
    for value, (_, account) in SANDBOX_TARGETS.items():
        for chosen in HUAWEI_ACCOUNTS if value == "huawei-modelarts" else [account]:
            echo_target = BY_VALUE[value].make_id(f"{namespace}-echo-{chosen}")
            world.simulator.set_target(value, echo_target)
            world.simulator.add_fault(value, echo_target, {"kind": "echo-credentials", "count": -1})
            name = f"echo-{value}-{chosen}"
            create(world, namespace, name, BY_VALUE[value], echo_target, chosen)
            made.append(name)
    for name in made:
        obj = wait_for(world.cluster, namespace, name, lambda o: "lastSyncTime" in status_of(o) or "failure" in
                       status_of(o), timeout=60, what=name)  # fmt: skip
        text = json.dumps(obj["status"])
        assert "(echo)" in text, name  # the echo arrived
        for value in ALL_CREDENTIAL_SECRETS:
            assert value not in text, (name, value)


def test_no_secret_in_any_status_event_or_log(world: World) -> None:
    api = world.cluster.api_client()
    statuses = client.CustomObjectsApi(api).list_cluster_custom_object(GROUP, VERSION, PLURAL)["items"]
    assert len(statuses) >= 4 * (len(FAULTS) + 2) + len(SEED_EXAMPLES) + 5
    events = client.CoreV1Api(api).list_event_for_all_namespaces().items
    haystacks = {
        "status": json.dumps([o.get("status") for o in statuses]),
        "events": json.dumps([(e.reason, e.message) for e in events]),
        "logs": "\n".join(world.logs.lines),
    }
    assert len(world.logs.lines) > 100
    for where, text in haystacks.items():
        for value in (*SECRET_VALUES, *ALL_CREDENTIAL_SECRETS, "not-the-secret"):
            assert value not in text, f"{value!r} leaked into {where}"
        assert "sandbox-SECRET" not in text, where


# -- /metrics, scraped ---------------------------------------------------------------------------


def scrape(world: World) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(world.metrics_url, timeout=5) as response:
        text = response.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def series(samples: dict[Any, float], metric: str, /, **labels: str) -> float | None:
    for (sample_name, sample_labels), value in samples.items():
        if sample_name == metric and set(labels.items()) <= set(sample_labels):
            return value
    return None


def test_metrics_expose_each_provider_resource_and_forget_deleted_ones(world: World, namespace: str) -> None:
    for value, (target_id, account) in SANDBOX_TARGETS.items():
        create(world, namespace, value, BY_VALUE[value], target_id, account)
    for value in SANDBOX_TARGETS:
        wait_for(world.cluster, namespace, value, lambda o: status_of(o).get("phase") == "Ready", timeout=30)
    samples = scrape(world)
    for value in SANDBOX_TARGETS:
        labels = {"namespace": namespace, "name": value, "provider": value}
        assert series(samples, "cloudmodel_phase", phase="Ready", **labels) == 1.0
        assert series(samples, "cloudmodel_phase", phase="Failed", **labels) == 0.0
        assert series(samples, "cloudmodel_condition", type="Ready", status="True", **labels) == 1.0
        assert series(samples, "cloudmodel_consecutive_failures", **labels) == 0.0
    print(
        "\n".join(
            f"{n}{dict(lbl)} {v}"
            for (n, lbl), v in sorted(samples.items())
            if ("namespace", namespace) in lbl
        )
    )
    hologres = {"namespace": namespace, "name": "alibaba-hologres", "provider": "alibaba-hologres"}
    assert series(samples, "cloudmodel_resource_capacity", resource="gpu", **hologres) == 4.0
    assert series(samples, "cloudmodel_resource_usage", resource="memory", **hologres) == 64 * 2**30
    assert series(samples, "cloudmodel_replicas_ready", **hologres) == 2.0
    qianfan = {"namespace": namespace, "name": "baidu-qianfan", "provider": "baidu-qianfan"}
    assert series(samples, "cloudmodel_resource_capacity", resource="computeUnits", **qianfan) == 4.0
    expires = datetime.fromisoformat(qianfan_body.EXPIRED_TIME).timestamp()
    assert series(samples, "cloudmodel_expiry_timestamp_seconds", **qianfan) == expires
    assert (
        series(samples, "cloudmodel_provider_requests_total", provider="baidu-qianfan", outcome="ok") or 0
    ) >= 1
    assert series(samples, "cloudmodel_provider_request_duration_seconds_count", provider="huawei-modelarts")
    assert (series(samples, "cloudmodel_status_writes_total") or 0) >= 4
    assert (series(samples, "cloudmodel_watched_resources") or 0) >= 4

    # Await one scheduled (not event-driven) poll, then its lateness is in the histogram.
    metrics = world.operator.metrics
    polled_on_schedule = threading.Event()
    original_poll_late = metrics.poll_late

    def poll_late(seconds: float) -> None:
        original_poll_late(seconds)
        polled_on_schedule.set()

    metrics.poll_late = poll_late  # type: ignore[method-assign]
    try:
        assert polled_on_schedule.wait(timeout=30), "no scheduled poll within 30s of a 10s interval"
    finally:
        metrics.poll_late = original_poll_late  # type: ignore[method-assign]
    assert (series(scrape(world), "cloudmodel_poll_lateness_seconds_count") or 0) >= 1

    # Await the operator forgetting the resource (an event, not a sleep), then scrape again.
    forgotten = threading.Event()
    original = metrics.resource_gone

    def resource_gone(ns: str, name: str) -> None:
        original(ns, name)
        if (ns, name) == (namespace, "baidu-qianfan"):
            forgotten.set()

    metrics.resource_gone = resource_gone  # type: ignore[method-assign]
    try:
        world.cluster.kubectl("delete", "cms", "baidu-qianfan", "-n", namespace)
        assert forgotten.wait(timeout=30), "the operator did not forget the deleted resource"
    finally:
        metrics.resource_gone = original  # type: ignore[method-assign]
    after = scrape(world)
    assert [
        key for key in after if ("name", "baidu-qianfan") in key[1] and ("namespace", namespace) in key[1]
    ] == []
    assert series(after, "cloudmodel_phase", phase="Ready", **hologres) == 1.0


# -- cloudmodel probe ----------------------------------------------------------------------------


def probe(world: World, tmp_path: Path, provider: str, target: str, creds: dict[str, str], *extra: str):
    credentials_file = tmp_path / "creds.yaml"
    credentials_file.write_text(yaml.safe_dump(creds))
    p = BY_VALUE[provider]
    fields = p.spec_fields(target)
    args = ["--provider", provider, "--region", p.region, "--endpoint", world.simulator.url,
            "--allow-endpoint", ALLOW_LOOPBACK, "--credentials-file", str(credentials_file)]  # fmt: skip
    if provider == "huawei-modelarts":
        args += ["--id", fields["serviceId"], "--project-id", fields["projectId"]]
    elif provider == "alibaba-guardrail":
        args += ["--id", str(fields["modelInstanceId"]), "--scene-type", str(fields["sceneType"])]
    else:
        args += ["--id", fields["instanceId"]]
    return subprocess.run(
        [sys.executable, "-m", "cloudmodel_operator", "probe", *args, *extra],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={**os.environ, "CLOUDMODEL_ALLOW_ENDPOINTS": ""},
    )


@pytest.mark.parametrize("value", list(SANDBOX_TARGETS))
def test_probe_prints_the_normalized_status(world: World, tmp_path: Path, value: str) -> None:
    target_id, account = SANDBOX_TARGETS[value]
    result = probe(world, tmp_path, value, target_id, CREDENTIALS[account])
    assert result.returncode == 0, result.stderr
    status = yaml.safe_load(result.stdout)
    assert status["phase"] == "Ready"
    assert {c["type"]: c["status"] for c in status["conditions"]}["Ready"] == "True"
    assert "sandbox-SECRET" not in result.stdout


@pytest.mark.parametrize("value", list(SANDBOX_TARGETS))
def test_probe_fails_in_one_line_naming_the_provider_code(world: World, tmp_path: Path, value: str) -> None:
    provider = BY_VALUE[value]
    target_id, account = SANDBOX_TARGETS[value]
    denied = probe(world, tmp_path, value, target_id, WRONG[account.split("-")[0]])
    assert denied.returncode != 0
    assert len(denied.stderr.strip().splitlines()) == 1, denied.stderr
    assert provider.auth_code in denied.stderr
    assert "not-the-secret" not in denied.stderr
    missing = probe(world, tmp_path, value, provider.make_id("does-not-exist"), CREDENTIALS[account])
    assert missing.returncode != 0
    assert len(missing.stderr.strip().splitlines()) == 1, missing.stderr
    assert provider.not_found_code in missing.stderr
