"""The Helm chart, with the real helm: generated from the manifests, identical to the base and to each
overlay when rendered with the matching values, lint-clean, accepted by the apiserver, and
installable (and upgradable) on the test control plane with exactly the rights it promises."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from cloudmodel_operator.cli import build_parser
from tests.conftest import REPO, Cluster
from tests.tools import run

CHART = REPO / "charts" / "cloudmodel-operator"
MANIFESTS = REPO / "manifests"
RELEASE_NAMESPACE = "cloudmodel-system"  # the manifests' namespace, so renders compare 1:1

Key = tuple[str, str, str, str]

# Values -> the kustomize variant they must render, object for object.
VARIANTS = {
    "base": ([], MANIFESTS),
    "namespaced": (["--set", "watchNamespaces={team-a,team-b}"], MANIFESTS / "overlays" / "namespaced"),
    "secret-metadata-watch": (
        ["--set", "secretMetadataWatch=true"],
        MANIFESTS / "overlays" / "secret-metadata-watch",
    ),
}
# Value sets that have no kustomize twin but must lint and pass the apiserver too.
OTHER_VALUES = {
    "namespaced-metadata-watch": ["--set", "watchNamespaces={team-a,team-b}", "--set", "secretMetadataWatch=true"],
    "sharded": ["--set", "replicaCount=3", "--set", "leaderElection.shards=4",
                "--set", "leaderElection.leaseDuration=20s"],
    "standalone": ["--set", "replicaCount=1", "--set", "leaderElection.enabled=false"],
}  # fmt: skip
ALL_VALUES = {name: values for name, (values, _) in VARIANTS.items()} | OTHER_VALUES


def helm_template(*args: str, namespace: str = RELEASE_NAMESPACE) -> list[dict[str, Any]]:
    result = run("helm", "template", "cloudmodel-operator", str(CHART), "--namespace", namespace, *args)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def kustomize(kubectl: Path, path: Path) -> list[dict[str, Any]]:
    rendered = subprocess.run(
        [str(kubectl), "kustomize", str(path)], capture_output=True, text=True, check=True
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


def one(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = [obj for obj in objects if obj["kind"] == kind]
    return found


def args_of(objects: list[dict[str, Any]]) -> list[str]:
    args: list[str] = one(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]
    return args


def kinds(objects: list[dict[str, Any]]) -> set[str]:
    return {obj["kind"] for obj in objects}


@pytest.fixture(scope="module")
def kubectl() -> Path:
    from cloudmodel_dev.controlplane import ensure_binaries

    return ensure_binaries() / "kubectl"


def test_chart_is_generated_from_the_current_manifests() -> None:
    result = subprocess.run([sys.executable, str(REPO / "hack" / "gen_chart.py"), "--check"],
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", ALL_VALUES)
def test_helm_lint_is_clean(name: str) -> None:
    result = run("helm", "lint", "--strict", str(CHART), *ALL_VALUES[name])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 chart(s) linted, 0 chart(s) failed" in result.stdout


@pytest.mark.parametrize("variant", VARIANTS)
def test_values_render_the_matching_kustomize_variant(kubectl: Path, variant: str) -> None:
    values, path = VARIANTS[variant]
    assert_same_objects(helm_template("--include-crds", *values), kustomize(kubectl, path))


def test_namespaced_metadata_watch_grants_list_and_watch_in_each_namespace_only() -> None:
    chart = helm_template(*OTHER_VALUES["namespaced-metadata-watch"])
    assert kinds(chart).isdisjoint({"ClusterRole", "ClusterRoleBinding"})
    secret_verbs = {
        obj["metadata"]["namespace"]: sorted(
            verb for rule in obj["rules"] if "secrets" in rule["resources"] for verb in rule["verbs"]
        )
        for obj in chart
        if obj["kind"] == "Role" and obj["metadata"]["namespace"] != RELEASE_NAMESPACE
    }
    assert secret_verbs == {"team-a": ["get", "list", "watch"], "team-b": ["get", "list", "watch"]}
    assert args_of(chart) == ["run", "--namespace=team-a", "--namespace=team-b", "--watch-secret-metadata"]


def test_values_parameterize_the_deployment() -> None:
    chart = helm_template(
        "--set", "replicaCount=3", "--set", "image.repository=registry.example/cm", "--set", "image.tag=9.9.9",
        "--set", "image.pullPolicy=Always", "--set", "resources.limits.memory=1Gi",
        "--set", "leaderElection.shards=4", "--set", "leaderElection.leaseDuration=20s",
        "--set", "leaderElection.renewDeadline=12s", "--set", "leaderElection.retryPeriod=3s",
        "--set", "extraArgs={--rate-limit=2,--log-level=DEBUG}",
    )  # fmt: skip
    deployment = one(chart, "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert deployment["spec"]["replicas"] == 3
    assert container["image"] == "registry.example/cm:9.9.9"
    assert container["imagePullPolicy"] == "Always"
    assert container["resources"]["limits"]["memory"] == "1Gi"
    args = args_of(chart)
    assert args == ["run", "--shards=4", "--lease-duration=20s", "--renew-deadline=12s", "--retry-period=3s",
                    "--rate-limit=2", "--log-level=DEBUG"]  # fmt: skip
    other = helm_template(namespace="ops")
    # Nothing still names the manifests' namespace (metadata, RBAC subjects, flags).
    assert "cloudmodel-system" not in json.dumps(other)
    cluster_scoped = ("ClusterRole", "ClusterRoleBinding")
    assert {obj["metadata"].get("namespace") for obj in other if obj["kind"] not in cluster_scoped} == {"ops"}
    assert {s["namespace"] for obj in other for s in obj.get("subjects", [])} == {"ops"}


@pytest.mark.parametrize("name", ALL_VALUES)
def test_the_operator_accepts_every_argument_the_chart_renders(name: str) -> None:
    """The flags are spelled the way `cloudmodel run` parses them, with the values the chart meant."""
    args = args_of(helm_template(*ALL_VALUES[name]))
    parsed = build_parser().parse_args(args)
    assert parsed.command == "run"
    assert parsed.standalone == ("--standalone" in args)
    assert parsed.watch_secret_metadata == ("--watch-secret-metadata" in args)
    assert tuple(parsed.namespace or ()) == tuple(
        a.removeprefix("--namespace=") for a in args if a.startswith("--namespace=")
    )
    if name == "sharded":
        assert parsed.shards == 4
        assert parsed.lease_duration.total_seconds() == 20


def test_standalone_has_no_leases_and_no_disruption_budget() -> None:
    chart = helm_template(*OTHER_VALUES["standalone"])
    assert "--standalone" in args_of(chart)
    assert not any("leases" in json.dumps(obj) for obj in chart if obj["kind"] in ("Role", "RoleBinding"))
    assert "PodDisruptionBudget" not in kinds(chart)
    refused = run("helm", "template", "x", str(CHART), "--set", "leaderElection.enabled=false")
    assert refused.returncode != 0
    assert "set replicaCount to 1" in refused.stderr


def test_one_replica_gets_no_disruption_budget_that_would_block_every_drain() -> None:
    assert "PodDisruptionBudget" in kinds(helm_template())
    assert "PodDisruptionBudget" not in kinds(helm_template("--set", "replicaCount=1"))


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        (["--set", "leaderElection.leaseDuration=20"], "/leaderElection/leaseDuration"),
        (["--set", "leaderElection.renewDeadline=ten"], "/leaderElection/renewDeadline"),
        (["--set", "watchNamespaces={Team_A}"], "/watchNamespaces/0"),
        (["--set", "secretMetadatWatch=true"], "secretMetadatWatch"),
        (["--set", "replicaCount=0"], "/replicaCount"),
    ],
)
def test_the_schema_refuses_mistyped_values(values: list[str], complaint: str) -> None:
    result = run("helm", "template", "x", str(CHART), *values)
    assert result.returncode != 0, result.stdout
    assert complaint in result.stderr, result.stderr


@pytest.mark.e2e
@pytest.mark.parametrize("name", ALL_VALUES)
def test_the_apiserver_accepts_the_rendered_chart(cluster: Cluster, name: str) -> None:
    namespace = "helm-dry-run"
    rendered = run("helm", "template", "cloudmodel-operator", str(CHART), "--namespace", namespace,
                   "--include-crds", *ALL_VALUES[name])  # fmt: skip
    assert rendered.returncode == 0, rendered.stderr
    for needed in [namespace, "team-a", "team-b"]:
        cluster.kubectl("create", "namespace", needed, check=False)  # may exist from another test
    applied = cluster.kubectl("apply", "--dry-run=server", "-f", "-", stdin=rendered.stdout, check=False)
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.count("(server dry run)") == len(
        [d for d in yaml.safe_load_all(rendered.stdout) if d]
    )


def can_i(cluster: Cluster, user: str, verb: str, resource: str, namespace: str) -> bool:
    answer = cluster.kubectl("auth", "can-i", verb, resource, f"--as={user}", "-n", namespace, check=False)
    assert answer.stdout.strip() in ("yes", "no"), answer.stdout + answer.stderr
    return answer.stdout.strip() == "yes"


@pytest.mark.e2e
def test_helm_install_and_upgrade_grant_exactly_what_the_values_say(cluster: Cluster) -> None:
    namespace, watched = "cloudmodel-helm", "team-helm"
    user = f"system:serviceaccount:{namespace}:cloudmodel-operator"
    helm = ["--kubeconfig", str(cluster.kubeconfig), "--namespace", namespace]
    cluster.kubectl("create", "namespace", watched, check=False)
    values = ["--set", f"watchNamespaces={{{watched}}}"]
    # A namespaced release creates no cluster-scoped object, so an earlier `kubectl apply -k
    # manifests/` in this cluster (test_manifests) cannot collide with it.
    installed = run(
        "helm", "install", "cloudmodel-operator", str(CHART), *helm, "--create-namespace", *values
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    try:
        for obj in helm_template(*values, namespace=namespace):
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
        status = run("helm", "status", "cloudmodel-operator", *helm)
        assert "STATUS: deployed" in status.stdout, status.stdout + status.stderr
        # The rights the release's ServiceAccount really has, as the API server answers them.
        assert can_i(cluster, user, "get", "secrets", watched)
        assert can_i(cluster, user, "update", "leases.coordination.k8s.io", namespace)
        assert not can_i(cluster, user, "get", "secrets", "kube-system")
        assert not can_i(cluster, user, "list", "secrets", watched)

        upgraded = run("helm", "upgrade", "cloudmodel-operator", str(CHART), *helm, *values,
                       "--set", "secretMetadataWatch=true")  # fmt: skip
        assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
        deployment = json.loads(cluster.kubectl("get", "deployment", "cloudmodel-operator", "-n", namespace,
                                                "-o", "json").stdout)  # fmt: skip
        assert deployment["spec"]["template"]["spec"]["containers"][0]["args"] == [
            "run", f"--namespace={watched}", "--watch-secret-metadata"
        ]  # fmt: skip
        assert can_i(cluster, user, "watch", "secrets", watched)
        assert not can_i(cluster, user, "list", "secrets", "kube-system")
    finally:
        removed = run("helm", "uninstall", "cloudmodel-operator", *helm)
        assert removed.returncode == 0, removed.stderr
    assert not can_i(cluster, user, "get", "secrets", watched)
