"""`cloudmodel-dev sandbox`: the local control plane, the provider simulator, the operator and samples.

Everything runs on loopback and stops on Ctrl-C. State lives under `.sandbox/` in the working
tree (recreated on every start) so the printed KUBECONFIG path stays the same between runs.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from cloudmodel_dev import controlplane
from cloudmodel_operator import logsetup
from cloudmodel_operator.settings import Settings

logger = logging.getLogger("cloudmodel.sandbox")

SIMULATOR_PORT = 8787  # examples/ point spec.endpoint here
SANDBOX_DIR = ".sandbox"


def _kubectl(plane: controlplane.ControlPlane, *args: str) -> str:
    result = subprocess.run(  # noqa: S603 - our kubectl, our arguments
        [str(plane.kubectl), f"--kubeconfig={plane.kubeconfig_path()}", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise controlplane.ControlPlaneError(f"kubectl {' '.join(args)} failed:\n{result.stderr.strip()}")
    return result.stdout


def _install(plane: controlplane.ControlPlane, root: Path) -> None:
    # The CRD and RBAC exactly as a cluster install gets them; the operator itself runs here.
    _kubectl(plane, "apply", "-k", str(root / "manifests"))
    _kubectl(
        plane, "wait", "--for=condition=Established", "crd/cloudmodelservices.cloudmodel.io", "--timeout=60s"
    )
    _kubectl(plane, "apply", "-f", str(root / "examples"))


def _banner(kubeconfig: Path, simulator_url: str, metrics_port: int) -> str:
    return f"""
  The sandbox is up: a local kube-apiserver, the provider simulator at {simulator_url},
  the operator (metrics on http://127.0.0.1:{metrics_port}/metrics) and one sample per provider.

  In another terminal:

    export KUBECONFIG={kubeconfig}
    kubectl get cms -o wide
    kubectl describe cms hologres-ready
    kubectl wait --for=condition=Ready cms/hologres-ready cms/qianfan-running --timeout=60s

  (`kubectl wait --all` waits on the samples one after another under one timeout: the first
  that is not Ready on purpose uses it up, and every sample after it reports a timeout.)

  Change a provider's state and watch it follow within one poll interval (10s):

    curl -X PUT {simulator_url}/_admin/targets/baidu-qianfan/unit-sandbox-running -d '{{"state": "Reconfiguring"}}'
    kubectl get cms -w

  Ctrl-C stops everything.
"""


def main(scenario: str | None) -> int:
    from cloudmodel_dev.simulator.scenario import load_scenario
    from cloudmodel_dev.simulator.server import run_in_thread
    from cloudmodel_operator.app import run

    logsetup.configure(logging.INFO)
    root = controlplane.repo_root()
    state_dir = Path.cwd() / SANDBOX_DIR
    shutil.rmtree(state_dir, ignore_errors=True)
    try:
        loaded = load_scenario(scenario)
        with (
            controlplane.start(state_dir / "controlplane", keep=True) as plane,
            run_in_thread(loaded, host="127.0.0.1", port=SIMULATOR_PORT) as simulator,
        ):
            _install(plane, root)
            kubeconfig = plane.kubeconfig_path()
            metrics_port = controlplane.free_port()
            print(_banner(kubeconfig, simulator.url, metrics_port), file=sys.stderr, flush=True)
            run(
                Settings(
                    standalone=True,
                    kubeconfig=str(kubeconfig),
                    allow_endpoints=(r"http://127\.0\.0\.1:\d+/?",),
                    metrics_port=metrics_port,
                    health_port=0,
                    heartbeat=timedelta(minutes=5),
                )
            )
    except controlplane.ControlPlaneError as exc:
        print(f"cloudmodel-dev sandbox: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0
