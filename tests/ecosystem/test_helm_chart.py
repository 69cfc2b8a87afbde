"""The Helm chart, with the real helm: generated from the manifests, identical to them when rendered,
lint-clean, accepted by the apiserver, and installable on the test control plane."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO, Cluster
from tests.tools import run

CHART = REPO / "charts" / "cloudmodel-operator"
RELEASE_NAMESPACE = "cloudmodel-system"  # the manifests' namespace, so renders compare 1:1

Key = tuple[str, str, str, str]


def helm_template(*args: str) -> list[dict[str, Any]]:
    result = run(
        "helm", "template", "cloudmodel-operator", str(CHART), "--namespace", RELEASE_NAMESPACE, *args
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def kustomize(cluster_kubectl: Path, path: Path) -> list[dict[str, Any]]:
    rendered = subprocess.run(
        [str(cluster_kubectl), "kustomize", str(path)], capture_output=True, text=True, check=True
    )
    return [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]


def by_key(objects: list[dict[str, Any]]) -> dict[Key, dict[str, Any]]:
    keyed = {}
    for obj in objects:
        meta = obj["metadata"]
        key = (obj["apiVersion"], obj["kind"], meta.get("namespace", ""), meta["name"])
        assert key not in keyed, f"{key} rendered twice"
        keyed[key] = obj
    return keyed


def assert_same_objects(chart: list[dict[str, Any]], manifests: list[dict[str, Any]]) -> None:
    """Helm installs into the release namespace instead of creating one: all else is identical."""
    expected = by_key([obj for obj in manifests if obj["kind"] != "Namespace"])
    got = by_key(chart)
    assert sorted(got) == sorted(expected)
    for key, obj in expected.items():
        assert got[key] == obj, (
            f"{key} differs:\nchart:     {json.dumps(got[key], sort_keys=True)}\nmanifests: {json.dumps(obj, sort_keys=True)}"
        )


@pytest.fixture(scope="module")
def kubectl() -> Path:
    from cloudmodel_dev.controlplane import ensure_binaries

    return ensure_binaries() / "kubectl"


def test_chart_is_generated_from_the_current_manifests() -> None:
    result = subprocess.run([sys.executable, str(REPO / "hack" / "gen_chart.py"), "--check"],
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_helm_lint_is_clean() -> None:
    result = run("helm", "lint", "--strict", str(CHART))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 chart(s) linted, 0 chart(s) failed" in result.stdout
    result = run("helm", "lint", "--strict", str(CHART), "--set", "watchNamespaces={team-a,team-b}")
    assert result.returncode == 0, result.stdout + result.stderr


def test_default_values_render_the_manifests(kubectl: Path) -> None:
    assert_same_objects(helm_template("--include-crds"), kustomize(kubectl, REPO / "manifests"))


def test_watch_namespaces_render_the_namespaced_secrets_overlay(kubectl: Path) -> None:
    chart = helm_template("--include-crds", "--set", "watchNamespaces={team-a,team-b}")
    assert_same_objects(chart, kustomize(kubectl, REPO / "manifests" / "overlays" / "namespaced-secrets"))


def test_values_parameterize_the_deployment() -> None:
    chart = helm_template(
        "--set", "replicaCount=3", "--set", "image.repository=registry.example/cm", "--set", "image.tag=9.9.9",
        "--set", "image.pullPolicy=Always", "--set", "resources.limits.memory=1Gi",
        "--set", "extraArgs={--rate-limit=2,--log-level=DEBUG}",
    )  # fmt: skip
    deployment = next(obj for obj in chart if obj["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert deployment["spec"]["replicas"] == 3
    assert container["image"] == "registry.example/cm:9.9.9"
    assert container["imagePullPolicy"] == "Always"
    assert container["resources"]["limits"]["memory"] == "1Gi"
    assert container["args"][-2:] == ["--rate-limit=2", "--log-level=DEBUG"]
    other = helm_template("--namespace", "ops")
    # Nothing still names the manifests' namespace (metadata, RBAC subjects, flags).
    assert "cloudmodel-system" not in json.dumps(other)
    assert {
        obj["metadata"].get("namespace") for obj in other if obj["kind"] in ("Deployment", "Service")
    } == {"ops"}


@pytest.mark.e2e
def test_the_apiserver_accepts_the_rendered_chart(cluster: Cluster) -> None:
    rendered = run(
        "helm", "template", "cloudmodel-operator", str(CHART), "--namespace", "helm-dry-run", "--include-crds"
    )
    assert rendered.returncode == 0, rendered.stderr
    cluster.kubectl("create", "namespace", "helm-dry-run", check=False)
    applied = cluster.kubectl("apply", "--dry-run=server", "-f", "-", stdin=rendered.stdout, check=False)
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.count("(server dry run)") == len(
        [d for d in yaml.safe_load_all(rendered.stdout) if d]
    )


@pytest.mark.e2e
def test_helm_install_creates_every_object(cluster: Cluster) -> None:
    namespace = "cloudmodel-helm"
    cluster.kubectl("create", "namespace", "team-helm", check=False)
    # An earlier `kubectl apply -k manifests/` in this cluster (test_manifests) left the same
    # cluster-scoped RBAC, as it would for a user moving from kustomize to Helm: --take-ownership
    # adopts it, and --force-conflicts lets Helm's server-side apply point its subjects at this
    # release's namespace.
    installed = run("helm", "install", "cloudmodel-operator", str(CHART), f"--kubeconfig={cluster.kubeconfig}",
                    "--namespace", namespace, "--create-namespace", "--take-ownership", "--force-conflicts",
                    "--set", "watchNamespaces={team-helm}")  # fmt: skip
    assert installed.returncode == 0, installed.stdout + installed.stderr
    try:
        expected = helm_template("--namespace", namespace, "--set", "watchNamespaces={team-helm}")
        for obj in expected:
            meta = obj["metadata"]
            args = ["get", obj["kind"].lower(), meta["name"], "-o", "json"]
            if "namespace" in meta:
                args += ["-n", meta["namespace"]]
            live = json.loads(cluster.kubectl(*args).stdout)
            annotations = live["metadata"].get("annotations") or {}
            assert annotations.get("meta.helm.sh/release-name") == "cloudmodel-operator", (
                obj["kind"],
                meta["name"],
            )
            assert annotations.get("meta.helm.sh/release-namespace") == namespace
        crd = json.loads(
            cluster.kubectl("get", "crd", "cloudmodelservices.cloudmodel.io", "-o", "json").stdout
        )
        assert crd["spec"]["names"]["kind"] == "CloudModelService"
        status = run(
            "helm", "status", "cloudmodel-operator", f"--kubeconfig={cluster.kubeconfig}", "-n", namespace
        )
        assert "STATUS: deployed" in status.stdout, status.stdout + status.stderr
    finally:
        removed = run(
            "helm", "uninstall", "cloudmodel-operator", f"--kubeconfig={cluster.kubeconfig}", "-n", namespace
        )
        assert removed.returncode == 0, removed.stderr
