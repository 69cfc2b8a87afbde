"""The install manifests, really applied, and the operator running with exactly their rights."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from cloudmodel_operator.api.spec import GROUP, PLURAL, VERSION
from cloudmodel_operator.settings import Settings
from tests.conftest import Cluster
from tests.doubles import SCRIPT, observation, scripted
from tests.e2e.crd_helpers import wait_for_crd
from tests.e2e.kube_helpers import cms, secret, wait_events, wait_for
from tests.operator_runner import operator_in_thread

pytestmark = pytest.mark.e2e

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"
SYSTEM_NAMESPACE = "cloudmodel-system"
SERVICE_ACCOUNT = f"system:serviceaccount:{SYSTEM_NAMESPACE}:cloudmodel-operator"


def rendered(cluster: Cluster, path: Path) -> list[dict[str, Any]]:
    return list(yaml.safe_load_all(cluster.kubectl("kustomize", str(path)).stdout))


@pytest.fixture(scope="module")
def installed(cluster: Cluster) -> None:
    cluster.kubectl("apply", "-k", str(MANIFESTS))
    wait_for_crd(cluster, f"{PLURAL}.{GROUP}")


@pytest.fixture(scope="module")
def operator_kubeconfig(cluster: Cluster, installed: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A kubeconfig that authenticates as the manifests' ServiceAccount (a real bound token)."""
    token = cluster.kubectl(
        "create", "token", "cloudmodel-operator", "-n", SYSTEM_NAMESPACE, "--duration=1h"
    ).stdout.strip()
    admin = yaml.safe_load(cluster.kubeconfig.read_text())
    cluster_entry = admin["clusters"][0]
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [cluster_entry],
        "users": [{"name": "operator", "user": {"token": token}}],
        "contexts": [{"name": "operator", "context": {"cluster": cluster_entry["name"], "user": "operator"}}],
        "current-context": "operator",
    }
    path = tmp_path_factory.mktemp("sa") / "kubeconfig-operator.yaml"
    path.write_text(yaml.safe_dump(kubeconfig))
    return path


def can_i(cluster: Cluster, verb: str, resource: str, namespace: str | None = None) -> bool:
    resource, _, subresource = resource.partition("/")
    args = ["auth", "can-i", verb, resource, f"--as={SERVICE_ACCOUNT}"]
    if subresource:
        args.append(f"--subresource={subresource}")
    args += ["-n", namespace] if namespace else ["--all-namespaces"]
    return cluster.kubectl(*args, check=False).stdout.strip() == "yes"


def test_apply_k_creates_every_object(cluster: Cluster, installed: None) -> None:
    objects = rendered(cluster, MANIFESTS)
    kinds = sorted(o["kind"] for o in objects)
    assert kinds == sorted(
        ["Namespace", "CustomResourceDefinition", "ServiceAccount", "ClusterRole", "ClusterRole",
         "ClusterRoleBinding", "ClusterRoleBinding", "Deployment", "Service"]
    )  # fmt: skip
    for obj in objects:
        args = ["get", obj["kind"].lower(), obj["metadata"]["name"], "-o", "json"]
        if obj["metadata"].get("namespace"):
            args += ["-n", obj["metadata"]["namespace"]]
        live = json.loads(cluster.kubectl(*args).stdout)
        assert live["metadata"]["labels"]["app.kubernetes.io/part-of"] == "cloudmodel-operator"
    # Applying again changes nothing.
    again = cluster.kubectl("apply", "-k", str(MANIFESTS)).stdout
    assert all(line.endswith("unchanged") for line in again.splitlines()), again


def test_deployment_is_locked_down(cluster: Cluster, installed: None) -> None:
    deployment = json.loads(
        cluster.kubectl(
            "get", "deployment", "cloudmodel-operator", "-n", SYSTEM_NAMESPACE, "-o", "json"
        ).stdout
    )
    pod = deployment["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "cloudmodel-operator"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 65532
    (container,) = pod["containers"]
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert set(container["resources"]) == {"requests", "limits"}
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["port"] == "health"
    assert container["args"] == ["run", "--standalone"]
    assert deployment["spec"]["replicas"] == 1


def test_rbac_grants_exactly_what_the_operator_uses(cluster: Cluster, installed: None) -> None:
    allowed = [
        ("list", "cloudmodelservices.cloudmodel.io"),
        ("watch", "cloudmodelservices.cloudmodel.io"),
        ("patch", "cloudmodelservices.cloudmodel.io/status"),
        ("create", "events"),
        ("patch", "events"),
        ("get", "secrets"),
        ("watch", "secrets"),
    ]
    refused = [
        ("update", "cloudmodelservices.cloudmodel.io"),
        ("patch", "cloudmodelservices.cloudmodel.io"),
        ("delete", "cloudmodelservices.cloudmodel.io"),
        ("create", "secrets"),
        ("update", "secrets"),
        ("delete", "secrets"),
        ("list", "pods"),
        ("create", "customresourcedefinitions.apiextensions.k8s.io"),
    ]
    assert [rule for rule in allowed if not can_i(cluster, *rule)] == []
    assert [rule for rule in refused if can_i(cluster, *rule)] == []


def test_namespaced_secrets_overlay_has_no_cluster_wide_secret_access(cluster: Cluster) -> None:
    objects = rendered(cluster, MANIFESTS / "overlays" / "namespaced-secrets")
    cluster_rules = [rule for o in objects if o["kind"] == "ClusterRole" for rule in o["rules"]]
    assert not any("secrets" in rule["resources"] for rule in cluster_rules)
    roles = {o["metadata"]["namespace"] for o in objects if o["kind"] == "Role"}
    assert roles == {"team-a", "team-b"}
    (deployment,) = [o for o in objects if o["kind"] == "Deployment"]
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args == ["run", "--standalone", "--namespace", "team-a", "--namespace", "team-b"]
    for namespace in sorted(roles):
        cluster.kubectl("create", "namespace", namespace, check=False)
    cluster.kubectl("apply", "-k", str(MANIFESTS / "overlays" / "namespaced-secrets"))
    # `kubectl apply -k` never deletes: remove the base's cluster-wide grant as a switch-over would.
    cluster.kubectl("delete", "clusterrolebinding", "cloudmodel-operator-secrets")
    try:
        assert can_i(cluster, "get", "secrets", "team-a")
        assert can_i(cluster, "watch", "secrets", "team-b")
        assert not can_i(cluster, "get", "secrets", "default")
        assert not can_i(cluster, "get", "secrets", "kube-system")
    finally:
        cluster.kubectl("apply", "-k", str(MANIFESTS))


@pytest.fixture
def operator_as_service_account(cluster: Cluster, operator_kubeconfig: Path) -> Iterator[None]:
    settings = Settings(heartbeat=timedelta(hours=1), metrics_port=0)
    with scripted("alibaba-hologres"), operator_in_thread(str(operator_kubeconfig), settings):
        yield


def test_operator_works_with_the_service_account_and_no_more(
    cluster: Cluster, namespace: str, operator_kubeconfig: Path, operator_as_service_account: None
) -> None:
    SCRIPT.set("hg-rbac", observation())
    secret(cluster, namespace, "creds", {"accessKeyId": "AKID-rbac", "accessKeySecret": "rbac-secret-value"})
    cluster.apply(
        cms(namespace, "rbac", {
            "provider": "alibaba-hologres", "region": "cn-hangzhou", "instanceId": "hg-rbac",
            "credentialsSecretRef": {"name": "creds"},
        })
    )  # fmt: skip
    obj = wait_for(
        cluster, namespace, "rbac", lambda o: (o.get("status") or {}).get("phase") == "Ready", timeout=30
    )
    assert obj["status"]["summary"]["replicas"] == "2/2"
    events = wait_events(cluster, namespace, "rbac", lambda events: len(events) >= 1)
    assert events[0].reason == "PhaseChanged"

    # The same identity is refused anything beyond its role.
    api = config.new_client_from_config(config_file=str(operator_kubeconfig))
    objects = client.CustomObjectsApi(api)
    with pytest.raises(ApiException) as spec_write:
        objects.patch_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, "rbac", {"spec": {"suspend": True}}
        )
    assert spec_write.value.status == 403
    with pytest.raises(ApiException) as secret_delete:
        client.CoreV1Api(api).delete_namespaced_secret("creds", namespace)
    assert secret_delete.value.status == 403
    with pytest.raises(ApiException) as pods:
        client.CoreV1Api(api).list_namespaced_pod(namespace)
    assert pods.value.status == 403


def test_kubectl_version_of_kustomize_renders_without_load_restrictions(cluster: Cluster) -> None:
    # No overlay or base reaches outside its directory tree except through kustomizations.
    result = subprocess.run(
        [str(cluster.kubectl_bin), "kustomize", str(MANIFESTS)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
