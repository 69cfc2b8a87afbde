"""GitOps health from real status objects: kstatus (Flux), the Argo CD Lua check and `kubectl wait`.

Each case drives one resource into a phase through the provider interface, reads the status the
operator really wrote, and judges it with the same rules the tools use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from cloudmodel_operator.api.observation import Observation, Phase
from cloudmodel_operator.providers.base import ErrorClass, ProviderError
from cloudmodel_operator.settings import Settings
from tests.conftest import Cluster
from tests.doubles import SCRIPT, observation, scripted
from tests.e2e.kube_helpers import cms, condition, install_crd, secret, wait_for
from tests.gitops import kstatus
from tests.gitops.argocd import HEALTH_LUA, health
from tests.operator_runner import operator_in_thread

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Case:
    name: str
    result: Observation | ProviderError
    settled: Callable[[dict[str, Any]], bool]
    kstatus: str
    argocd: str
    suspend: bool = False


def has_condition(type_: str, status: str, reason: str | None = None) -> Callable[[dict[str, Any]], bool]:
    def check(obj: dict[str, Any]) -> bool:
        for c in (obj.get("status") or {}).get("conditions") or []:
            if c["type"] == type_ and c["status"] == status and (reason is None or c["reason"] == reason):
                return True
        return False

    return check


def in_phase(phase: Phase) -> Callable[[dict[str, Any]], bool]:
    return lambda obj: (obj.get("status") or {}).get("phase") == phase.value


CASES = [
    Case("ready", observation(), in_phase(Phase.READY), kstatus.CURRENT, "Healthy"),
    Case(
        "progressing",
        observation(Phase.PROGRESSING, "InstanceWaiting", ready=0),
        in_phase(Phase.PROGRESSING),
        kstatus.IN_PROGRESS,
        "Progressing",
    ),
    Case(
        "degraded",
        observation(Phase.DEGRADED, "ResourceReady", ready=1, message="1 of 2 replicas down"),
        in_phase(Phase.DEGRADED),
        kstatus.IN_PROGRESS,
        "Degraded",
    ),
    Case(
        "failed",
        observation(Phase.FAILED, "failed", ready=0, message="image pull failed"),
        in_phase(Phase.FAILED),
        kstatus.FAILED,
        "Degraded",
    ),
    Case(
        "stopped",
        observation(Phase.STOPPED, "stopped", ready=0),
        in_phase(Phase.STOPPED),
        kstatus.IN_PROGRESS,
        "Suspended",
    ),
    Case(
        "unknown",
        observation(Phase.UNKNOWN, "Hibernating", ready=0),
        in_phase(Phase.UNKNOWN),
        kstatus.IN_PROGRESS,
        "Progressing",
    ),
    Case(
        "auth-failed",
        ProviderError(ErrorClass.AUTH, "InvalidAccessKeyId.NotFound", code="InvalidAccessKeyId.NotFound"),
        has_condition("Stalled", "True", "AuthenticationFailed"),
        kstatus.FAILED,
        "Degraded",
    ),
    Case(
        "not-found",
        ProviderError(ErrorClass.NOT_FOUND, "instance does not exist", code="InstanceNotFound"),
        has_condition("Stalled", "True", "NotFound"),
        kstatus.FAILED,
        "Missing",
    ),
    Case(
        "unreachable",
        ProviderError(ErrorClass.TRANSIENT, "cannot reach the provider"),
        has_condition("Synced", "False", "ProviderUnreachable"),
        kstatus.IN_PROGRESS,
        "Progressing",
    ),
    Case(
        "suspended",
        observation(),
        has_condition("Synced", "False", "Suspended"),
        kstatus.IN_PROGRESS,
        "Suspended",
        suspend=True,
    ),
]


@pytest.fixture(scope="module")
def running(cluster: Cluster) -> Iterator[Any]:
    install_crd(cluster)
    settings = Settings(heartbeat=timedelta(hours=1), terminal_recheck=timedelta(hours=1), metrics_port=0)
    with scripted("alibaba-hologres"), operator_in_thread(str(cluster.kubeconfig), settings) as running:
        yield running


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_health_of_real_status(cluster: Cluster, namespace: str, running: Any, case: Case) -> None:
    target = f"hg-gitops-{case.name}"
    SCRIPT.set(target, case.result)
    secret(cluster, namespace, "creds", {"accessKeyId": "AKID-gitops", "accessKeySecret": "gitops-secret"})
    spec = {
        "provider": "alibaba-hologres",
        "region": "cn-hangzhou",
        "instanceId": target,
        "credentialsSecretRef": {"name": "creds"},
        "suspend": case.suspend,
    }
    cluster.apply(cms(namespace, case.name, spec))
    obj = wait_for(cluster, namespace, case.name, case.settled, timeout=30, what=case.name)
    # Every condition describes the current generation (kstatus and Argo CD both require it).
    assert obj["status"]["observedGeneration"] == obj["metadata"]["generation"]
    assert all(c["observedGeneration"] == obj["metadata"]["generation"] for c in obj["status"]["conditions"])

    flux = kstatus.compute(obj)
    argo_status, argo_message = health(obj)
    assert (flux.status, argo_status) == (case.kstatus, case.argocd), (flux, argo_message, obj["status"])
    assert argo_message

    waited = cluster.kubectl(
        "wait", "--for=condition=Ready", f"cms/{case.name}", "-n", namespace, "--timeout=2s", check=False
    )
    assert (waited.returncode == 0) == (condition(obj, "Ready")["status"] == "True")
    assert (waited.returncode == 0) == (case.kstatus == kstatus.CURRENT)
    # One line per phase for the docs' health table (visible with `pytest -s`).
    print(
        f"gitops-health {case.name} phase={obj['status'].get('phase')} kstatus={flux.status} argocd={argo_status}"
    )


def test_argocd_cm_patch_carries_the_same_script() -> None:
    import yaml

    patch = yaml.safe_load((HEALTH_LUA.parent / "argocd-cm-patch.yaml").read_text())
    assert (
        patch["data"]["resource.customizations.health.cloudmodel.io_CloudModelService"]
        == HEALTH_LUA.read_text()
    )


def test_generation_not_yet_observed_is_progressing_everywhere(cluster: Cluster, namespace: str) -> None:
    obj = {
        "kind": "CloudModelService",
        "metadata": {"generation": 3},
        "spec": {},
        "status": {"observedGeneration": 2, "phase": "Ready",
                   "conditions": [{"type": "Ready", "status": "True", "observedGeneration": 2}]},
    }  # fmt: skip
    assert kstatus.compute(obj).status == kstatus.IN_PROGRESS
    assert health(obj)[0] == "Progressing"
