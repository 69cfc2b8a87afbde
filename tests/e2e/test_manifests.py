"""The install manifests, really applied: least-privilege RBAC pinned by snapshots of what the API
server grants, a hardened two-replica Deployment, and the operator running with exactly its rights.

Each install variant (the base and every overlay) is checked. The RBAC of each variant is bound to
a ServiceAccount of its own on the shared test API server, so the rights of one variant never add
to another's; the snapshots hold `kubectl auth can-i --list` as that ServiceAccount.
After a deliberate change of rights, re-record them with
`CLOUDMODEL_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/e2e/test_manifests.py` and review the diff.
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from cloudmodel_operator.api.observation import Phase
from cloudmodel_operator.api.spec import GROUP, PLURAL, VERSION
from cloudmodel_operator.settings import Settings
from tests.conftest import Cluster
from tests.doubles import SCRIPT, observation, scripted
from tests.e2e.crd_helpers import wait_for_crd
from tests.e2e.kube_helpers import cms, secret, wait_events, wait_for
from tests.operator_runner import operator_in_thread

pytestmark = pytest.mark.e2e

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"
SNAPSHOTS = Path(__file__).resolve().parent / "rbac_snapshots"
SYSTEM_NAMESPACE = "cloudmodel-system"
ACCOUNT = "cloudmodel-operator"
SERVICE_ACCOUNT = f"system:serviceaccount:{SYSTEM_NAMESPACE}:{ACCOUNT}"
TENANTS = ("team-a", "team-b")  # the namespaces overlays/namespaced lists
VARIANTS = {
    "base": MANIFESTS,
    "namespaced": MANIFESTS / "overlays" / "namespaced",
    "secret-metadata-watch": MANIFESTS / "overlays" / "secret-metadata-watch",
}
RBAC_KINDS = {"ServiceAccount", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}
POD_LABELS = {"app.kubernetes.io/name": "cloudmodel-operator", "app.kubernetes.io/component": "operator"}
UPDATE_SNAPSHOTS = os.environ.get("CLOUDMODEL_UPDATE_SNAPSHOTS") == "1"


def render(cluster: Cluster, path: Path) -> list[dict[str, Any]]:
    return list(yaml.safe_load_all(cluster.kubectl("kustomize", str(path)).stdout))


def one(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = [o for o in objects if o["kind"] == kind]
    return found


@pytest.fixture(scope="module")
def rendered(cluster: Cluster) -> dict[str, list[dict[str, Any]]]:
    return {variant: render(cluster, path) for variant, path in VARIANTS.items()}


@pytest.fixture(scope="module")
def installed(cluster: Cluster) -> None:
    cluster.kubectl("apply", "-k", str(MANIFESTS))
    wait_for_crd(cluster, f"{PLURAL}.{GROUP}")
    for tenant in TENANTS:
        cluster.kubectl("create", "namespace", tenant, check=False)  # may exist from an earlier run


# ---- RBAC ------------------------------------------------------------------------------------


def isolated(objects: list[dict[str, Any]], variant: str) -> list[dict[str, Any]]:
    """The variant's RBAC objects, renamed so they bind a ServiceAccount of the variant's own."""
    suffix = f"--{variant}"
    out = []
    for original in objects:
        if original["kind"] not in RBAC_KINDS:
            continue
        obj = copy.deepcopy(original)
        obj["metadata"]["name"] += suffix
        if "roleRef" in obj:
            obj["roleRef"]["name"] += suffix
        for subject in obj.get("subjects", []):
            assert (subject["kind"], subject["name"], subject["namespace"]) == (
                "ServiceAccount", ACCOUNT, SYSTEM_NAMESPACE
            )  # fmt: skip
            subject["name"] += suffix
        out.append(obj)
    return out


@pytest.fixture(scope="module")
def identities(
    cluster: Cluster, installed: None, rendered: dict[str, list[dict[str, Any]]]
) -> dict[str, str]:
    """variant -> the user name of a ServiceAccount holding exactly that variant's rights."""
    users = {}
    for variant, objects in rendered.items():
        cluster.apply(yaml.safe_dump_all(isolated(objects, variant)))
        users[variant] = f"{SERVICE_ACCOUNT}--{variant}"
    return users


def can_i(cluster: Cluster, user: str, verb: str, resource: str, namespace: str | None = None) -> bool:
    resource, _, subresource = resource.partition("/")
    args = ["auth", "can-i", verb, resource, f"--as={user}"]
    if subresource:
        args.append(f"--subresource={subresource}")
    args += ["-n", namespace] if namespace else ["--all-namespaces"]
    answer = cluster.kubectl(*args, check=False).stdout.strip()
    assert answer in ("yes", "no"), answer
    return answer == "yes"


def _sorted_cell(cell: str) -> str:
    items = re.fullmatch(r"\[(.*)\]", cell)
    return f"[{' '.join(sorted(items.group(1).split()))}]" if items else cell


def rights_table(cluster: Cluster, user: str, namespace: str) -> list[str]:
    """`kubectl auth can-i --list` as `user`, sorted and realigned: the API server merges rules in no
    fixed order, so rows and the items within a cell ("[get list watch]") are sorted."""
    lines = cluster.kubectl("auth", "can-i", "--list", f"--as={user}", "-n", namespace).stdout.splitlines()
    header, rows = lines[0], lines[1:]
    titles = re.findall(r"\S+(?: \S+)*", header)
    starts = [header.index(title) for title in titles]
    cells = [
        [_sorted_cell(row[start:end].strip()) for start, end in zip(starts, [*starts[1:], None], strict=True)]
        for row in rows if row.strip()
    ]  # fmt: skip
    table = [titles, *sorted(cells)]
    widths = [max(len(row[i]) for row in table) for i in range(len(titles))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in table
    ]


SNAPSHOT_CASES = [(variant, scope) for variant in VARIANTS for scope in ("tenant", "operator")]


@pytest.mark.parametrize(("variant", "scope"), SNAPSHOT_CASES, ids=[f"{v}-{s}" for v, s in SNAPSHOT_CASES])
def test_rights_match_the_committed_snapshot(
    cluster: Cluster, identities: dict[str, str], variant: str, scope: str
) -> None:
    namespace = TENANTS[0] if scope == "tenant" else SYSTEM_NAMESPACE
    actual = [
        f"# kubectl auth can-i --list as the operator's ServiceAccount: install {variant}, namespace {namespace}",
        "# Re-record after a deliberate change: CLOUDMODEL_UPDATE_SNAPSHOTS=1 pytest tests/e2e/test_manifests.py",
        *rights_table(cluster, identities[variant], namespace),
    ]
    path = SNAPSHOTS / f"{variant}-{scope}.txt"
    if UPDATE_SNAPSHOTS:
        path.parent.mkdir(exist_ok=True)
        path.write_text("\n".join(actual) + "\n")
    expected = path.read_text().splitlines() if path.exists() else []
    if actual != expected:
        diff = "\n".join(
            difflib.unified_diff(expected, actual, f"{path.name} (committed)", "granted now", lineterm="")
        )
        pytest.fail(f"the {variant} install's rights in {namespace} changed:\n{diff}", pytrace=False)


# (verb, resource, namespace or None for all namespaces) the operator must be refused in every install.
REFUSED_EVERYWHERE = [
    ("list", "secrets", None), ("list", "secrets", TENANTS[0]),
    ("create", "secrets", TENANTS[0]), ("update", "secrets", TENANTS[0]), ("patch", "secrets", TENANTS[0]),
    ("delete", "secrets", TENANTS[0]),
    ("create", f"{PLURAL}.{GROUP}", TENANTS[0]), ("update", f"{PLURAL}.{GROUP}", TENANTS[0]),
    ("patch", f"{PLURAL}.{GROUP}", TENANTS[0]), ("delete", f"{PLURAL}.{GROUP}", TENANTS[0]),
    ("update", f"{PLURAL}.{GROUP}/status", TENANTS[0]),
    ("delete", "events", TENANTS[0]), ("update", "events", TENANTS[0]),
    ("watch", "leases.coordination.k8s.io", SYSTEM_NAMESPACE),
    ("patch", "leases.coordination.k8s.io", SYSTEM_NAMESPACE),
    ("delete", "leases.coordination.k8s.io", SYSTEM_NAMESPACE),
    ("get", "leases.coordination.k8s.io", TENANTS[0]), ("create", "leases.coordination.k8s.io", "kube-system"),
    ("list", "namespaces", None), ("list", "customresourcedefinitions.apiextensions.k8s.io", None),
    ("watch", "customresourcedefinitions.apiextensions.k8s.io", None),
    ("list", "pods", TENANTS[0]), ("create", "pods", SYSTEM_NAMESPACE), ("get", "configmaps", TENANTS[0]),
    ("create", "serviceaccounts/token", SYSTEM_NAMESPACE), ("impersonate", "users", None),
    ("create", "rolebindings.rbac.authorization.k8s.io", SYSTEM_NAMESPACE),
]  # fmt: skip
GRANTED_EVERYWHERE = [
    ("list", f"{PLURAL}.{GROUP}", TENANTS[0]), ("watch", f"{PLURAL}.{GROUP}", TENANTS[1]),
    ("patch", f"{PLURAL}.{GROUP}/status", TENANTS[0]),
    ("get", "secrets", TENANTS[0]),
    ("create", "events", TENANTS[0]), ("get", "events", TENANTS[0]), ("patch", "events", TENANTS[1]),
    ("get", "leases.coordination.k8s.io", SYSTEM_NAMESPACE), ("list", "leases.coordination.k8s.io", SYSTEM_NAMESPACE),
    ("create", "leases.coordination.k8s.io", SYSTEM_NAMESPACE),
    ("update", "leases.coordination.k8s.io", SYSTEM_NAMESPACE),
]  # fmt: skip


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_operator_gets_what_it_uses_and_is_refused_the_rest(
    cluster: Cluster, identities: dict[str, str], variant: str
) -> None:
    user = identities[variant]
    refused = REFUSED_EVERYWHERE
    if variant == "secret-metadata-watch":  # the overlay's documented price
        refused = [rule for rule in refused if rule[:2] != ("list", "secrets")]
    assert [rule for rule in GRANTED_EVERYWHERE if not can_i(cluster, user, *rule)] == []
    assert [rule for rule in refused if can_i(cluster, user, *rule)] == []


def test_base_get_secrets_reaches_every_namespace_as_documented(
    cluster: Cluster, identities: dict[str, str]
) -> None:
    # RBAC cannot confine `get` to the Secrets resources reference: a ClusterRole grant is
    # cluster-wide, kube-system included (docs/operations.md says so); no list, no watch.
    user = identities["base"]
    assert can_i(cluster, user, "get", "secrets", "kube-system")
    assert can_i(cluster, user, "get", "secrets", None)
    assert not can_i(cluster, user, "watch", "secrets", None)
    assert not can_i(cluster, user, "list", "secrets", "kube-system")


def test_namespaced_install_reaches_only_its_namespaces(
    cluster: Cluster, identities: dict[str, str], rendered: dict[str, list[dict[str, Any]]]
) -> None:
    kinds = {o["kind"] for o in rendered["namespaced"]}
    assert {"ClusterRole", "ClusterRoleBinding"}.isdisjoint(kinds)
    roles = {
        (o["metadata"]["namespace"], o["metadata"]["name"])
        for o in rendered["namespaced"]
        if o["kind"] == "Role"
    }
    assert roles == {("team-a", ACCOUNT), ("team-b", ACCOUNT), (SYSTEM_NAMESPACE, f"{ACCOUNT}-leases")}
    user = identities["namespaced"]
    for namespace in ("kube-system", "default", SYSTEM_NAMESPACE):
        assert not can_i(cluster, user, "get", "secrets", namespace), namespace
        assert not can_i(cluster, user, "list", f"{PLURAL}.{GROUP}", namespace), namespace
    assert not can_i(cluster, user, "get", "secrets", None)
    assert not can_i(cluster, user, "list", f"{PLURAL}.{GROUP}", None)  # no cluster-wide list
    args = one(rendered["namespaced"], "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args == ["run", "--namespace=team-a", "--namespace=team-b"]


def test_secret_metadata_watch_adds_only_list_and_watch_of_secrets(
    cluster: Cluster, identities: dict[str, str], rendered: dict[str, list[dict[str, Any]]]
) -> None:
    user = identities["secret-metadata-watch"]
    assert can_i(cluster, user, "list", "secrets", None)
    assert can_i(cluster, user, "watch", "secrets", TENANTS[0])

    def rules(variant: str) -> list[dict[str, Any]]:
        return [
            rule for o in rendered[variant] if o["kind"] in ("ClusterRole", "Role") for rule in o["rules"]
        ]

    added = [rule for rule in rules("secret-metadata-watch") if rule not in rules("base")]
    assert added == [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["list", "watch"]}]
    args = one(rendered["secret-metadata-watch"], "Deployment")["spec"]["template"]["spec"]["containers"][0][
        "args"
    ]
    assert args == ["run", "--watch-secret-metadata"]


RBAC_SOURCES = sorted(
    path for path in MANIFESTS.rglob("*.yaml")
    if path.relative_to(MANIFESTS).parts[0] in ("base", "overlays") and "rbac.authorization.k8s.io" in path.read_text()
)  # fmt: skip


@pytest.mark.parametrize("path", RBAC_SOURCES, ids=[str(p.relative_to(MANIFESTS)) for p in RBAC_SOURCES])
def test_every_rule_names_the_code_that_needs_it(path: Path) -> None:
    lines = path.read_text().splitlines()
    uncommented = []
    for number, line in enumerate(lines):
        if re.match(r"^\s*- apiGroups:", line):
            above = next((lines[i] for i in range(number - 1, -1, -1) if lines[i].strip()), "")
            # The comment block right above the rule names a module of the operator.
            block = [lines[i] for i in range(number - 1, -1, -1) if lines[i].lstrip().startswith("#")][:3]
            if not above.lstrip().startswith("#") or not any(
                re.search(r"\b[a-z_]+/[a-z_]+\.py\b", c) for c in block
            ):
                uncommented.append(f"line {number + 1}: {line.strip()}")
    assert uncommented == []


# ---- The Deployment ----------------------------------------------------------------------------


def deployment_of(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return one(objects, "Deployment")


def pod_of(objects: list[dict[str, Any]]) -> dict[str, Any]:
    spec: dict[str, Any] = deployment_of(objects)["spec"]["template"]["spec"]
    return spec


def container_of(objects: list[dict[str, Any]]) -> dict[str, Any]:
    (container,) = pod_of(objects)["containers"]
    return dict(container)


HARDENING: dict[str, Callable[[list[dict[str, Any]]], None]] = {}


def hardening(
    name: str,
) -> Callable[[Callable[[list[dict[str, Any]]], None]], Callable[[list[dict[str, Any]]], None]]:
    def register(check: Callable[[list[dict[str, Any]]], None]) -> Callable[[list[dict[str, Any]]], None]:
        HARDENING[name] = check
        return check

    return register


@hardening("two-replicas")
def _(objects: list[dict[str, Any]]) -> None:
    assert deployment_of(objects)["spec"]["replicas"] == 2


@hardening("rolling-update-surge-1-unavailable-0")
def _(objects: list[dict[str, Any]]) -> None:
    strategy = deployment_of(objects)["spec"]["strategy"]
    assert strategy == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}


@hardening("pod-disruption-budget-min-available-1")
def _(objects: list[dict[str, Any]]) -> None:
    budget = one(objects, "PodDisruptionBudget")
    assert budget["spec"]["minAvailable"] == 1
    assert "maxUnavailable" not in budget["spec"]
    assert budget["spec"]["selector"] == {"matchLabels": POD_LABELS}
    assert deployment_of(objects)["spec"]["template"]["metadata"]["labels"] == POD_LABELS


@hardening("anti-affinity-on-hostname")
def _(objects: list[dict[str, Any]]) -> None:
    (term,) = pod_of(objects)["affinity"]["podAntiAffinity"][
        "preferredDuringSchedulingIgnoredDuringExecution"
    ]
    assert term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
    assert term["podAffinityTerm"]["labelSelector"] == {"matchLabels": POD_LABELS}
    assert term["weight"] == 100


@hardening("zone-spread-never-blocks")
def _(objects: list[dict[str, Any]]) -> None:
    (spread,) = pod_of(objects)["topologySpreadConstraints"]
    assert spread["topologyKey"] == "topology.kubernetes.io/zone"
    assert spread["whenUnsatisfiable"] == "ScheduleAnyway"
    assert spread["labelSelector"] == {"matchLabels": POD_LABELS}


@hardening("pod-name-and-namespace-from-downward-api")
def _(objects: list[dict[str, Any]]) -> None:
    env = {e["name"]: e for e in container_of(objects)["env"]}
    assert env["POD_NAME"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert env["POD_NAMESPACE"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}


@hardening("leader-election-on")
def _(objects: list[dict[str, Any]]) -> None:
    args = container_of(objects)["args"]
    assert args[0] == "run"
    assert "--standalone" not in args


@hardening("liveness-healthz-readiness-readyz-on-health-port")
def _(objects: list[dict[str, Any]]) -> None:
    container = container_of(objects)
    env = {e["name"]: e.get("value") for e in container["env"]}
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports["health"] == int(env["CLOUDMODEL_HEALTH_PORT"])
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "health"}


@hardening("non-root")
def _(objects: list[dict[str, Any]]) -> None:
    pod, container = pod_of(objects), container_of(objects)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["runAsGroup"] != 0


@hardening("read-only-root-filesystem")
def _(objects: list[dict[str, Any]]) -> None:
    assert container_of(objects)["securityContext"]["readOnlyRootFilesystem"] is True


@hardening("no-privilege-escalation")
def _(objects: list[dict[str, Any]]) -> None:
    security = container_of(objects)["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["privileged"] is False


@hardening("all-capabilities-dropped")
def _(objects: list[dict[str, Any]]) -> None:
    assert container_of(objects)["securityContext"]["capabilities"] == {"drop": ["ALL"]}


@hardening("seccomp-runtime-default")
def _(objects: list[dict[str, Any]]) -> None:
    pod, container = pod_of(objects), container_of(objects)
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["securityContext"].get("seccompProfile", {"type": "RuntimeDefault"}) == {
        "type": "RuntimeDefault"
    }


@hardening("service-account-token-mounted")
def _(objects: list[dict[str, Any]]) -> None:
    assert pod_of(objects)["serviceAccountName"] == ACCOUNT
    assert pod_of(objects)["automountServiceAccountToken"] is True
    assert one(objects, "ServiceAccount")["automountServiceAccountToken"] is True


@hardening("no-host-namespaces-or-host-paths")
def _(objects: list[dict[str, Any]]) -> None:
    pod = pod_of(objects)
    assert not any(pod.get(key) for key in ("hostNetwork", "hostPID", "hostIPC"))
    assert all(set(volume) == {"name", "emptyDir"} for volume in pod["volumes"])


@hardening("requests-and-memory-limit-no-cpu-limit")
def _(objects: list[dict[str, Any]]) -> None:
    resources = container_of(objects)["resources"]
    assert resources["requests"] == {"cpu": "200m", "memory": "256Mi"}  # sized from make bench
    assert resources["limits"] == {"memory": "768Mi"}  # no CPU limit: see the comment in deployment.yaml


@hardening("pinned-image")
def _(objects: list[dict[str, Any]]) -> None:
    image = container_of(objects)["image"]
    assert re.fullmatch(r"[\w./-]+:\d+\.\d+\.\d+(@sha256:[0-9a-f]{64})?", image), image


HARDENING_CASES = [(item, variant) for item in HARDENING for variant in VARIANTS]


@pytest.mark.parametrize(("item", "variant"), HARDENING_CASES, ids=[f"{i}-{v}" for i, v in HARDENING_CASES])
def test_deployment_hardening(item: str, variant: str, rendered: dict[str, list[dict[str, Any]]]) -> None:
    HARDENING[item](rendered[variant])


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_install_passes_the_api_servers_admission(
    cluster: Cluster, installed: None, variant: str
) -> None:
    # Server-side dry run: schema validation, defaulting, and Pod Security admission, which warns
    # for a pod template that breaks the namespace's "restricted" level.
    result = cluster.kubectl("apply", "-k", str(VARIANTS[variant]), "--dry-run=server", check=False)
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr, result.stderr
    assert "PodDisruptionBudget" not in result.stderr


def test_pod_security_admission_catches_a_loosened_pod_template(
    cluster: Cluster, installed: None, rendered: dict[str, list[dict[str, Any]]]
) -> None:
    # The check above can fail: the same Deployment without its capability drop is flagged.
    loosened = copy.deepcopy(deployment_of(rendered["base"]))
    del loosened["spec"]["template"]["spec"]["containers"][0]["securityContext"]["capabilities"]
    result = cluster.kubectl("apply", "--dry-run=server", "-f", "-", stdin=json.dumps(loosened), check=False)
    assert 'would violate PodSecurity "restricted:latest"' in result.stderr, result.stderr


def test_apply_k_creates_every_object(cluster: Cluster, installed: None) -> None:
    objects = render(cluster, MANIFESTS)
    kinds = sorted(o["kind"] for o in objects)
    assert kinds == sorted(
        ["Namespace", "CustomResourceDefinition", "ServiceAccount", "ClusterRole", "ClusterRoleBinding",
         "Role", "RoleBinding", "Deployment", "PodDisruptionBudget", "Service"]
    )  # fmt: skip
    for obj in objects:
        args = ["get", obj["kind"].lower(), obj["metadata"]["name"], "-o", "json"]
        if obj["metadata"].get("namespace"):
            args += ["-n", obj["metadata"]["namespace"]]
        live = json.loads(cluster.kubectl(*args).stdout)
        assert live["metadata"]["labels"]["app.kubernetes.io/part-of"] == "cloudmodel-operator"
    # Applying again changes nothing: the server-side diff is empty (exit 0). `kubectl apply`
    # itself says "configured" for the PodDisruptionBudget every time, while changing nothing.
    cluster.kubectl("apply", "-k", str(MANIFESTS))
    diff = cluster.kubectl("diff", "-k", str(MANIFESTS), check=False)
    assert diff.returncode == 0, diff.stdout + diff.stderr


# ---- The operator with exactly these rights ---------------------------------------------------


@pytest.fixture(scope="module")
def operator_kubeconfig(cluster: Cluster, installed: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A kubeconfig that authenticates as the manifests' ServiceAccount (a real bound token)."""
    token = cluster.kubectl(
        "create", "token", ACCOUNT, "-n", SYSTEM_NAMESPACE, "--duration=1h"
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


@pytest.fixture
def operator_as_service_account(cluster: Cluster, operator_kubeconfig: Path) -> Iterator[None]:
    settings = Settings(heartbeat=timedelta(hours=1), metrics_port=0)
    with scripted("alibaba-hologres"), operator_in_thread(str(operator_kubeconfig), settings):
        yield


def test_operator_works_with_the_service_account_and_no_more(
    cluster: Cluster, namespace: str, operator_kubeconfig: Path, operator_as_service_account: None
) -> None:
    # Degraded from the start: a first phase that is a problem is posted as an Event.
    SCRIPT.set("hg-rbac", observation(Phase.DEGRADED, ready=1, message="my_model: 1 replica down"))
    secret(cluster, namespace, "creds", {"accessKeyId": "AKID-rbac", "accessKeySecret": "rbac-secret-value"})
    cluster.apply(
        cms(namespace, "rbac", {
            "provider": "alibaba-hologres", "region": "cn-hangzhou", "instanceId": "hg-rbac",
            "credentialsSecretRef": {"name": "creds"},
        })
    )  # fmt: skip
    obj = wait_for(
        cluster, namespace, "rbac", lambda o: (o.get("status") or {}).get("phase") == "Degraded", timeout=30
    )
    assert obj["status"]["summary"]["replicas"] == "1/2"
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
    core = client.CoreV1Api(api)
    with pytest.raises(ApiException) as secret_list:
        core.list_namespaced_secret(namespace)
    assert secret_list.value.status == 403
    with pytest.raises(ApiException) as secret_delete:
        core.delete_namespaced_secret("creds", namespace)
    assert secret_delete.value.status == 403
    with pytest.raises(ApiException) as pods:
        core.list_namespaced_pod(namespace)
    assert pods.value.status == 403
