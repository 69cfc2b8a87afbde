"""A running fleet: the real operator process (`cloudmodel run`) against the test control plane,
with every example resource served by the provider simulator, and a scrape of its /metrics."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass

import pytest
import yaml

from cloudmodel_dev.controlplane import free_port
from cloudmodel_dev.simulator.server import run_in_thread
from tests.conftest import REPO, Cluster
from tests.e2e.kube_helpers import install_crd, wait_for

FLEET_NAMESPACE = "fleet"


@dataclass(frozen=True)
class Fleet:
    namespace: str
    names: tuple[str, ...]
    scrape: str  # the operator's /metrics, once every resource has a phase
    scraped_at: float  # when, in seconds since the epoch


def example_documents(simulator_url: str) -> list[dict[str, object]]:
    documents = []
    for path in sorted((REPO / "examples").glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document["kind"] == "CloudModelService":
                document["spec"]["endpoint"] = simulator_url
            document["metadata"]["namespace"] = FLEET_NAMESPACE
            documents.append(document)
    return documents


@pytest.fixture(scope="session")
def fleet(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    """Runs the fleet until every resource has a phase, scrapes it once, and stops it all."""
    install_crd(cluster)
    cluster.kubectl("create", "namespace", FLEET_NAMESPACE)
    log_path = tmp_path_factory.mktemp("fleet") / "operator.log"
    with run_in_thread(None, host="127.0.0.1", port=0) as simulator, log_path.open("w+") as log:
        documents = example_documents(simulator.url)
        cluster.apply(yaml.safe_dump_all(documents))
        names = tuple(str(d["metadata"]["name"]) for d in documents if d["kind"] == "CloudModelService")  # type: ignore[index]
        metrics_port = free_port()
        operator = subprocess.Popen(
            [sys.executable, "-m", "cloudmodel_operator", "run", f"--kubeconfig={cluster.kubeconfig}",
             "--standalone", f"--metrics-port={metrics_port}", f"--health-port={free_port()}",
             r"--allow-endpoint=http://127\.0\.0\.1:\d+/?"],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        try:
            for name in names:
                wait_for(cluster, FLEET_NAMESPACE, name, lambda obj: bool((obj.get("status") or {}).get("phase")),
                         timeout=120, what=f"{name} to get a phase")  # fmt: skip
            scraped_at = time.time()
            with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as response:
                scrape = response.read().decode()
        finally:
            operator.send_signal(signal.SIGINT)
            try:
                operator.wait(timeout=30)
            except subprocess.TimeoutExpired:
                operator.kill()
                operator.wait()
    return Fleet(FLEET_NAMESPACE, names, scrape, scraped_at)
