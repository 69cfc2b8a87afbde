"""A running fleet: the real operator process (`cloudmodel run`, watching its own namespace only:
other tests leave resources behind) against the test control plane, with the provider simulator
behind it, scraped twice.

First the sandbox exactly (the samples `cloudmodel-dev sandbox` applies, on the simulator's
sandbox scenario), then with resources in the states a sandbox never shows added (credentials the
provider rejects, a missing Secret, temporary credentials that state their expiry, a target serving
a seed document's example with its past dates), so every series the operator can export appears.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from cloudmodel_dev.controlplane import free_port
from cloudmodel_dev.sandbox import samples
from cloudmodel_dev.simulator.bodies.seeds import EXAMPLE_IDS
from cloudmodel_dev.simulator.server import run_in_thread
from tests.conftest import REPO, Cluster
from tests.e2e.kube_helpers import install_crd, wait_for

FLEET_NAMESPACE = "fleet"
# The states beyond the sandbox's: resource name -> what the operator must have written for it.
SEED_EXAMPLE_RESOURCE = "hologres-seed-example"
TEMPORARY_CREDENTIALS_EXPIRE_IN = timedelta(hours=12)


@dataclass(frozen=True)
class Scrape:
    text: str  # the operator's /metrics
    at: float  # when, in seconds since the epoch


@dataclass(frozen=True)
class Fleet:
    namespace: str
    sandbox_names: tuple[str, ...]  # the sandbox's samples
    names: tuple[str, ...]  # every resource: the samples and the added states
    sandbox: Scrape  # once every sample has a phase, before anything else was added
    full: Scrape  # once the added resources have their status too

    @property
    def scrape(self) -> str:
        return self.full.text


def _secret(name: str, data: dict[str, str], annotations: dict[str, str] | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if annotations:
        metadata["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "type": "Opaque", "stringData": data}


def _hologres(name: str, instance_id: str, secret: str, simulator_url: str) -> dict[str, Any]:
    return {
        "apiVersion": "cloudmodel.io/v1alpha1",
        "kind": "CloudModelService",
        "metadata": {"name": name},
        "spec": {"provider": "alibaba-hologres", "region": "cn-hangzhou", "instanceId": instance_id,
                 "credentialsSecretRef": {"name": secret}, "endpoint": simulator_url, "pollInterval": "10s"},
    }  # fmt: skip


def added_states(
    simulator_url: str,
) -> dict[str, tuple[list[dict[str, Any]], Callable[[dict[str, Any]], bool]]]:
    """Resource name -> (objects to apply, the status that shows the operator handled it)."""
    expires = (datetime.now(UTC) + TEMPORARY_CREDENTIALS_EXPIRE_IN).strftime("%Y-%m-%dT%H:%M:%SZ")
    keys = {
        "accessKeyId": "LTAIsandbox",
        "accessKeySecret": "sandbox-alibaba-secret",
    }  # the scenario's account
    ready = "hgpostcn-cn-sandbox-ready"

    def phase(obj: dict[str, Any]) -> bool:
        return bool((obj.get("status") or {}).get("phase"))

    def failure(obj: dict[str, Any]) -> bool:
        return bool((obj.get("status") or {}).get("failure"))

    return {
        # A secret the provider rejects (the signature does not match).
        "hologres-wrong-credentials": (
            [_secret("wrong-credentials", {**keys, "accessKeySecret": "not-the-secret"}),
             _hologres("hologres-wrong-credentials", ready, "wrong-credentials", simulator_url)],
            failure,
        ),
        # A Secret that does not exist.
        "hologres-missing-credentials": (
            [_hologres("hologres-missing-credentials", ready, "no-such-secret", simulator_url)],
            failure,
        ),
        # The seed document's own example, served byte for byte with its past expiry date, read
        # with temporary credentials whose Secret says when they stop working. (A target of its
        # own: resources whose keys and target are the same share one fetch, and only the Secret
        # of the resource that fetched gets a health.)
        SEED_EXAMPLE_RESOURCE: (
            [_secret("temporary-credentials", keys, {"cloudmodel.io/credentials-expire-at": expires}),
             _hologres(SEED_EXAMPLE_RESOURCE, EXAMPLE_IDS["alibaba-hologres"], "temporary-credentials", simulator_url)],
            phase,
        ),
    }  # fmt: skip


def in_namespace(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for document in documents:
        document["metadata"]["namespace"] = FLEET_NAMESPACE
    return documents


def scrape(port: int) -> Scrape:
    at = time.time()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        return Scrape(response.read().decode(), at)


def missing_series(text: str, names: tuple[str, ...], secrets: set[str]) -> set[str]:
    """The resources without a current phase and the Secrets without a health in a scrape."""
    have: set[str] = set()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "cloudmodel_phase" and sample.value == 1:
                have.add(sample.labels["name"])
            elif sample.name == "cloudmodel_credentials_valid":
                have.add(f"secret {sample.labels['secret']}")
    return (set(names) | {f"secret {secret}" for secret in secrets}) - have


def complete_scrape(port: int, names: tuple[str, ...], secrets: set[str], timeout: float = 30) -> Scrape:
    """A scrape that shows every resource and Secret. The operator updates its metrics just after
    the status write a test sees, and /metrics has no event to await: poll it, with a deadline."""
    deadline = time.monotonic() + timeout
    while True:
        scraped = scrape(port)
        missing = missing_series(scraped.text, names, secrets)
        if not missing:
            return scraped
        if time.monotonic() > deadline:
            raise AssertionError(f"/metrics still lacks {sorted(missing)} after {timeout:g}s")
        time.sleep(0.2)


def secrets_named(documents: list[dict[str, Any]]) -> set[str]:
    return {d["spec"]["credentialsSecretRef"]["name"] for d in documents if d["kind"] == "CloudModelService"}


@pytest.fixture(scope="session")
def fleet(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    """Runs the fleet, scrapes it as the sandbox and then with every state, and stops it all."""
    install_crd(cluster)
    cluster.kubectl("create", "namespace", FLEET_NAMESPACE)
    log_path = tmp_path_factory.mktemp("fleet") / "operator.log"
    with run_in_thread(None, host="127.0.0.1", port=0) as simulator, log_path.open("w+") as log:
        sandbox_documents = in_namespace(samples(REPO / "examples", simulator.url))
        cluster.apply(yaml.safe_dump_all(sandbox_documents))
        sandbox_names = tuple(
            d["metadata"]["name"] for d in sandbox_documents if d["kind"] == "CloudModelService"
        )
        added = added_states(simulator.url)
        metrics_port = free_port()
        operator = subprocess.Popen(
            [sys.executable, "-m", "cloudmodel_operator", "run", f"--kubeconfig={cluster.kubeconfig}",
             f"--namespace={FLEET_NAMESPACE}", "--standalone", f"--metrics-port={metrics_port}",
             f"--health-port={free_port()}",
             r"--allow-endpoint=http://127\.0\.0\.1:\d+/?"],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        try:
            for name in sandbox_names:
                wait_for(cluster, FLEET_NAMESPACE, name, lambda obj: bool((obj.get("status") or {}).get("phase")),
                         timeout=120, what=f"{name} to get a phase")  # fmt: skip
            sandbox = scrape(metrics_port)
            cluster.apply(yaml.safe_dump_all(in_namespace([d for docs, _ in added.values() for d in docs])))
            for name, (_, handled) in added.items():
                wait_for(
                    cluster, FLEET_NAMESPACE, name, handled, timeout=120, what=f"{name} to get its status"
                )
            full = scrape(metrics_port)
        finally:
            operator.send_signal(signal.SIGINT)
            try:
                operator.wait(timeout=30)
            except subprocess.TimeoutExpired:
                operator.kill()
                operator.wait()
    return Fleet(FLEET_NAMESPACE, sandbox_names, sandbox_names + tuple(added), sandbox, full)
