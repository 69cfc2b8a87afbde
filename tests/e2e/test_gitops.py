"""GitOps health of real status objects, judged by the tools' own code.

Each case drives one resource into a state through the provider interface, reads the object the
operator really wrote, and hands it to (hack/tools/gitops, built from the tools' modules):
kstatus (sigs.k8s.io/cli-utils; kpt, Config Sync), Flux's status readers without and with the
shipped `healthCheckExprs` (fluxcd/pkg/runtime/cel), the shipped Argo CD health.lua in gopher-lua
run the way Argo CD runs it, and `kubectl wait`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import yaml

from cloudmodel_operator.api.observation import Observation, Phase
from cloudmodel_operator.providers.base import ErrorClass, ProviderError
from cloudmodel_operator.settings import Settings
from tests.conftest import REPO, Cluster
from tests.doubles import SCRIPT, observation, scripted
from tests.e2e.kube_helpers import cms, condition, install_crd, secret, wait_for
from tests.operator_runner import operator_in_thread
from tests.tools import gitops_health

pytestmark = pytest.mark.e2e

HEALTH_LUA = REPO / "manifests" / "argocd" / "health.lua"
FLUX_KUSTOMIZATION = REPO / "manifests" / "flux" / "kustomization-healthcheck.yaml"

CURRENT, IN_PROGRESS, FAILED = "Current", "InProgress", "Failed"


@dataclass(frozen=True)
class Case:
    name: str
    results: tuple[Observation | ProviderError, ...]  # what the provider answers, in turn
    settled: Callable[[dict[str, Any]], bool]
    kstatus: str  # kstatus, and Flux without healthCheckExprs (its fork decides the same)
    flux: str  # Flux with the shipped healthCheckExprs: the decision in manifests/flux/
    argocd: str
    suspend: bool = False


def has_condition(type_: str, status: str, reason: str | None = None) -> Callable[[dict[str, Any]], bool]:
    def check(obj: dict[str, Any]) -> bool:
        found = condition(obj, type_)
        return found.get("status") == status and (reason is None or found.get("reason") == reason)

    return check


def in_phase(phase: Phase) -> Callable[[dict[str, Any]], bool]:
    return lambda obj: (obj.get("status") or {}).get("phase") == phase.value


UNREACHABLE = ProviderError(ErrorClass.TRANSIENT, "cannot reach the provider")

CASES = [
    Case("ready", (observation(),), in_phase(Phase.READY), CURRENT, CURRENT, "Healthy"),
    Case(
        "progressing",
        (observation(Phase.PROGRESSING, "InstanceWaiting", ready=0),),
        in_phase(Phase.PROGRESSING),
        IN_PROGRESS,
        IN_PROGRESS,
        "Progressing",
    ),
    Case(
        "degraded",
        (observation(Phase.DEGRADED, "ResourceReady", ready=1, message="1 of 2 replicas down"),),
        in_phase(Phase.DEGRADED),
        IN_PROGRESS,
        FAILED,
        "Degraded",
    ),
    Case(
        "failed",
        (observation(Phase.FAILED, "failed", ready=0, message="image pull failed"),),
        in_phase(Phase.FAILED),
        FAILED,
        FAILED,
        "Degraded",
    ),
    Case(
        "stopped",
        (observation(Phase.STOPPED, "stopped", ready=0),),
        in_phase(Phase.STOPPED),
        IN_PROGRESS,
        FAILED,
        "Suspended",
    ),
    Case(
        "unknown",
        (observation(Phase.UNKNOWN, "Hibernating", ready=0),),
        in_phase(Phase.UNKNOWN),
        IN_PROGRESS,
        IN_PROGRESS,
        "Progressing",
    ),
    Case(
        "auth-failed",
        (ProviderError(ErrorClass.AUTH, "InvalidAccessKeyId.NotFound", code="InvalidAccessKeyId.NotFound"),),
        has_condition("Stalled", "True", "AuthenticationFailed"),
        FAILED,
        FAILED,
        "Degraded",
    ),
    Case(
        "not-found",
        (ProviderError(ErrorClass.NOT_FOUND, "instance does not exist", code="InstanceNotFound"),),
        has_condition("Stalled", "True", "NotFound"),
        FAILED,
        FAILED,
        "Missing",
    ),
    Case(
        "unreachable",
        (UNREACHABLE,),
        has_condition("Synced", "False", "ProviderUnreachable"),
        IN_PROGRESS,
        IN_PROGRESS,
        "Progressing",
    ),
    Case(
        # Observed once, then the provider stops answering for longer than --stale-after-polls.
        "stale",
        (observation(), UNREACHABLE),
        has_condition("Ready", "Unknown", "StaleObservation"),
        IN_PROGRESS,
        FAILED,
        "Degraded",
    ),
    Case(
        "suspended",
        (observation(),),
        has_condition("Synced", "False", "Suspended"),
        IN_PROGRESS,
        IN_PROGRESS,
        "Suspended",
        suspend=True,
    ),
]


@pytest.fixture(scope="module")
def running(cluster: Cluster) -> Iterator[Any]:
    install_crd(cluster)
    # One missed poll (the 10s floor) makes an observation stale, so the stale case is quick.
    settings = Settings(
        heartbeat=timedelta(hours=1), terminal_recheck=timedelta(hours=1), stale_after_polls=1, metrics_port=0
    )
    with scripted("alibaba-hologres"), operator_in_thread(str(cluster.kubeconfig), settings) as running:
        yield running


def judge(obj: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Every tool's decision on one object."""
    return {
        "kstatus": gitops_health("kstatus", [obj])[0],
        "flux": gitops_health("flux", [obj])[0],
        "flux-exprs": gitops_health("flux", [obj], "--kustomization", str(FLUX_KUSTOMIZATION))[0],
        "argocd": gitops_health("argocd", [obj], "--script", str(HEALTH_LUA))[0],
    }


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_health_of_real_status(cluster: Cluster, namespace: str, running: Any, case: Case) -> None:
    target = f"hg-gitops-{case.name}"
    SCRIPT.set(target, case.results[0])
    secret(cluster, namespace, "creds", {"accessKeyId": "AKID-gitops", "accessKeySecret": "gitops-secret"})
    spec = {
        "provider": "alibaba-hologres",
        "region": "cn-hangzhou",
        "instanceId": target,
        "credentialsSecretRef": {"name": "creds"},
        "pollInterval": "10s",
        "suspend": case.suspend,
    }
    cluster.apply(cms(namespace, case.name, spec))
    for result in case.results[1:]:
        wait_for(
            cluster, namespace, case.name, lambda obj: bool((obj.get("status") or {}).get("lastSyncTime"))
        )
        SCRIPT.set(target, result)
    obj = wait_for(cluster, namespace, case.name, case.settled, timeout=60, what=case.name)
    # Every condition describes the current generation (kstatus, Flux and Argo CD all require it).
    assert obj["status"]["observedGeneration"] == obj["metadata"]["generation"]
    assert all(c["observedGeneration"] == obj["metadata"]["generation"] for c in obj["status"]["conditions"])

    decided = judge(obj)
    assert not any(d.get("error") for d in decided.values()), decided
    got = (decided["kstatus"]["status"], decided["flux"]["status"], decided["flux-exprs"]["status"],
           decided["argocd"]["status"])  # fmt: skip
    assert got == (case.kstatus, case.kstatus, case.flux, case.argocd), (decided, obj["status"]["conditions"])
    assert decided["argocd"]["message"]

    waited = cluster.kubectl(
        "wait", "--for=condition=Ready", f"cms/{case.name}", "-n", namespace, "--timeout=2s", check=False
    )
    assert (waited.returncode == 0) == (condition(obj, "Ready")["status"] == "True")
    assert (waited.returncode == 0) == (case.flux == CURRENT)
    # One line per state for the docs' health table (visible with `pytest -s`).
    print(
        f"gitops-health {case.name} phase={obj['status'].get('phase')} kstatus={got[0]} flux={got[2]} argocd={got[3]}"
    )


def test_no_status_yet_is_not_healthy_with_the_shipped_checks(cluster: Cluster, namespace: str) -> None:
    """With the operator down, a freshly applied resource has no status: what the tools see first."""
    install_crd(cluster)
    spec = {"provider": "alibaba-hologres", "region": "cn-hangzhou", "instanceId": "hg-never-seen",
            "credentialsSecretRef": {"name": "creds"}}  # fmt: skip
    # A server-side dry run returns the object exactly as the apiserver stores it; no operator sees it.
    created = cluster.kubectl("create", "--dry-run=server", "-o", "yaml", "-f", "-",
                              stdin=yaml.safe_dump(cms(namespace, "fresh", spec)))  # fmt: skip
    obj = yaml.safe_load(created.stdout)
    assert "status" not in obj
    assert obj["metadata"]["generation"] == 1
    decided = judge(obj)
    # kstatus (and Flux without the expressions) calls it Current: the reason to ship the expressions.
    assert decided["kstatus"]["status"] == CURRENT
    assert decided["flux"]["status"] == CURRENT
    # With them Flux cannot evaluate a missing status: Unknown, so `wait: true` does not pass.
    assert decided["flux-exprs"]["status"] == "Unknown"
    assert "status" in decided["flux-exprs"]["error"]
    assert decided["argocd"] == {
        "status": "Progressing",
        "message": "Waiting for the operator's first observation",
    }


def test_generation_not_yet_observed_is_progressing_everywhere() -> None:
    obj = {
        "apiVersion": "cloudmodel.io/v1alpha1",
        "kind": "CloudModelService",
        "metadata": {"name": "x", "namespace": "y", "generation": 3},
        "spec": {},
        "status": {"observedGeneration": 2, "phase": "Ready",
                   "conditions": [{"type": "Ready", "status": "True", "observedGeneration": 2}]},
    }  # fmt: skip
    decided = judge(obj)
    assert {name: d["status"] for name, d in decided.items()} == {
        "kstatus": IN_PROGRESS,
        "flux": IN_PROGRESS,
        "flux-exprs": IN_PROGRESS,
        "argocd": "Progressing",
    }


def test_argocd_cm_patch_carries_the_same_script() -> None:
    patch = yaml.safe_load((HEALTH_LUA.parent / "argocd-cm-patch.yaml").read_text())
    assert (
        patch["data"]["resource.customizations.health.cloudmodel.io_CloudModelService"]
        == HEALTH_LUA.read_text()
    )
