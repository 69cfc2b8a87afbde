"""kube-state-metrics with the shipped CustomResourceState config and RBAC, on real operator output.

The real kube-state-metrics runs against the test control plane as a ServiceAccount that has only
manifests/kube-state-metrics/rbac.yaml, reads CloudModelServices the operator wrote, and its
/metrics is checked series by series.
"""

from __future__ import annotations

import re
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from cloudmodel_dev.controlplane import free_port
from cloudmodel_operator.api.observation import Phase
from cloudmodel_operator.providers.base import ErrorClass, ProviderError
from cloudmodel_operator.settings import Settings
from tests.conftest import REPO, Cluster
from tests.doubles import SCRIPT, observation, scripted
from tests.e2e.kube_helpers import cms, condition, install_crd, secret, service_account_kubeconfig, wait_for
from tests.operator_runner import operator_in_thread
from tests.tools import tool

pytestmark = pytest.mark.e2e

KSM = REPO / "manifests" / "kube-state-metrics"
NAMESPACE = "ksm-fleet"
PREFIX = "kube_cloudmodelservice"


@dataclass(frozen=True)
class Scraped:
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float]
    log: str

    def value(self, metric: str, /, **labels: str) -> float | None:
        return self.samples.get((metric, frozenset(labels.items())))

    def names(self) -> set[str]:
        return {name for name, _ in self.samples}


def written_by_the_operator(cluster: Cluster) -> None:
    """Three resources as the operator leaves them: Ready, Degraded, and never observed (no replicas)."""
    cluster.kubectl("create", "namespace", NAMESPACE)
    secret(cluster, NAMESPACE, "creds", {"accessKeyId": "AKID-ksm", "accessKeySecret": "ksm-secret"})
    cases = {
        "ready": (observation(), lambda o: (o.get("status") or {}).get("phase") == "Ready"),
        "degraded": (
            observation(Phase.DEGRADED, "ResourceReady", ready=1, message="1 of 2 replicas down"),
            lambda o: (o.get("status") or {}).get("phase") == "Degraded",
        ),
        "locked-out": (
            ProviderError(ErrorClass.AUTH, "InvalidAccessKeyId.NotFound", code="InvalidAccessKeyId.NotFound"),
            lambda o: condition(o, "Stalled").get("reason") == "AuthenticationFailed",
        ),
    }
    for name, (result, _) in cases.items():
        SCRIPT.set(f"hg-ksm-{name}", result)
        spec = {"provider": "alibaba-hologres", "region": "cn-hangzhou", "instanceId": f"hg-ksm-{name}",
                "credentialsSecretRef": {"name": "creds"}}  # fmt: skip
        cluster.apply(cms(NAMESPACE, name, spec))
    for name, (_, settled) in cases.items():
        wait_for(cluster, NAMESPACE, name, settled, timeout=60, what=name)


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:  # loopback only
        return str(response.read().decode())


def parse(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.fixture(scope="module")
def ksm(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Scraped:
    install_crd(cluster)
    settings = Settings(heartbeat=timedelta(hours=1), terminal_recheck=timedelta(hours=1), metrics_port=0)
    with scripted("alibaba-hologres"), operator_in_thread(str(cluster.kubeconfig), settings):
        written_by_the_operator(cluster)
    # kube-state-metrics' identity: a ServiceAccount bound by the shipped RBAC, nothing else.
    cluster.kubectl("create", "namespace", "monitoring", check=False)
    cluster.kubectl("create", "serviceaccount", "kube-state-metrics", "-n", "monitoring")
    cluster.kubectl("apply", "-f", str(KSM / "rbac.yaml"))
    workdir = tmp_path_factory.mktemp("ksm")
    kubeconfig = service_account_kubeconfig(
        cluster, "monitoring", "kube-state-metrics", workdir / "kubeconfig"
    )
    port, telemetry = free_port(), free_port()
    log = (workdir / "ksm.log").open("w+")
    process = subprocess.Popen(
        [str(tool("kube-state-metrics")), f"--kubeconfig={kubeconfig}", "--custom-resource-state-only",
         f"--custom-resource-state-config-file={KSM / 'custom-resource-state.yaml'}",
         "--host=127.0.0.1", f"--port={port}", "--telemetry-host=127.0.0.1", f"--telemetry-port={telemetry}"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        # kube-state-metrics has no readiness signal for custom resources: poll its /metrics until
        # the three objects show up, with a deadline.
        deadline = time.monotonic() + 60
        samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
        while time.monotonic() < deadline and process.poll() is None:
            try:
                samples = parse(scrape(f"http://127.0.0.1:{port}/metrics"))
            except OSError:
                samples = {}
            names = {dict(labels).get("name") for name, labels in samples if name.startswith(PREFIX)}
            if {"ready", "degraded", "locked-out"} <= names:
                break
            time.sleep(0.5)
        # One more scrape cycle after the first complete one, so errors logged while rendering show.
        if samples:
            samples = parse(scrape(f"http://127.0.0.1:{port}/metrics"))
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.seek(0)
        output = log.read()
        log.close()
    return Scraped(samples, output)


def labels(name: str, **extra: str) -> dict[str, str]:
    return {"namespace": NAMESPACE, "name": name, "provider": "alibaba-hologres", "customresource_group": "cloudmodel.io",
            "customresource_kind": "CloudModelService", "customresource_version": "v1alpha1", **extra}  # fmt: skip


def test_exports_every_resource(ksm: Scraped) -> None:
    assert ksm.names() >= {f"{PREFIX}_status_condition", f"{PREFIX}_status_phase", f"{PREFIX}_replicas_ready",
                           f"{PREFIX}_replicas_desired", f"{PREFIX}_observed_generation"}, ksm.log  # fmt: skip


def test_phase_and_conditions(ksm: Scraped) -> None:
    for name, phase in (("ready", "Ready"), ("degraded", "Degraded")):
        for candidate in ("Ready", "Progressing", "Degraded", "Failed", "Stopped", "Unknown"):
            got = ksm.value(f"{PREFIX}_status_phase", **labels(name, phase=candidate))
            assert got == (1.0 if candidate == phase else 0.0), (name, candidate, got)
    assert ksm.value(f"{PREFIX}_status_condition", **labels("ready", type="Ready", reason="Available")) == 1.0
    assert (
        ksm.value(f"{PREFIX}_status_condition", **labels("degraded", type="Ready", reason="Degraded")) == 0.0
    )
    assert (
        ksm.value(
            f"{PREFIX}_status_condition",
            **labels("locked-out", type="Stalled", reason="AuthenticationFailed"),
        )
        == 1.0
    )


def test_replicas_only_where_the_status_has_them(ksm: Scraped) -> None:
    assert ksm.value(f"{PREFIX}_replicas_ready", **labels("ready")) == 2.0
    assert ksm.value(f"{PREFIX}_replicas_desired", **labels("ready")) == 2.0
    assert ksm.value(f"{PREFIX}_replicas_ready", **labels("degraded")) == 1.0
    # Never observed: no replicas in the status, so no series (not a made-up 0).
    assert ksm.value(f"{PREFIX}_replicas_ready", **labels("locked-out")) is None
    assert ksm.value(f"{PREFIX}_observed_generation", **labels("locked-out")) == 1.0


def test_logs_no_errors(ksm: Scraped) -> None:
    errors = [
        line for line in ksm.log.splitlines() if re.match(r"^E\d{4} ", line) or '"level":"error"' in line
    ]
    assert not errors, "\n".join(errors[:10])
