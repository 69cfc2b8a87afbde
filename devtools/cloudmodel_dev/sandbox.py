"""`cloudmodel-dev sandbox`: the local control plane, the provider simulator, the operator and samples.

Everything runs on loopback and stops on Ctrl-C. State lives under `.sandbox/` in the working
tree (recreated on every start) so the printed KUBECONFIG path stays the same between runs.
"""

from __future__ import annotations

import errno
import logging
import shutil
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from cloudmodel_dev import controlplane
from cloudmodel_operator import logsetup
from cloudmodel_operator.settings import Settings

logger = logging.getLogger("cloudmodel.sandbox")

SIMULATOR_HOST = "127.0.0.1"
SIMULATOR_PORT = 8787  # examples/ point spec.endpoint here; another --simulator-port rewrites them
SANDBOX_DIR = ".sandbox"


class PortUnavailable(Exception):
    """A port the sandbox must listen on is taken; the message says which and how to pick another."""

    def __init__(self, port: int, what: str, flag: str, reason: str = "is already in use") -> None:
        super().__init__(
            f"port {port} ({what}) {reason}; choose another with `cloudmodel-dev sandbox {flag} N` "
            f"(or `make sandbox SANDBOX_FLAGS='{flag} N'`)"
        )
        self.port, self.what, self.flag = port, what, flag


def _unavailable(exc: OSError, port: int, what: str, flag: str) -> PortUnavailable:
    reason = (
        "is already in use" if exc.errno == errno.EADDRINUSE else f"cannot be bound: {exc.strerror or exc}"
    )
    return PortUnavailable(port, what, flag, reason)


def _claimable(host: str, port: int, what: str, flag: str) -> None:
    """Fail before anything starts if `port` cannot be bound the way its server will bind it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp and http.server do
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise _unavailable(exc, port, what, flag) from exc


def _kubectl(plane: controlplane.ControlPlane, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(  # noqa: S603 - our kubectl, our arguments
        [str(plane.kubectl), f"--kubeconfig={plane.kubeconfig_path()}", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise controlplane.ControlPlaneError(f"kubectl {' '.join(args)} failed:\n{result.stderr.strip()}")
    return result.stdout


def samples(examples: Path, simulator_url: str) -> list[dict[str, Any]]:
    """The objects in examples/, with every endpoint that names the default simulator port moved
    to the simulator actually running."""
    documents = []
    for path in sorted(examples.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            endpoint = (document.get("spec") or {}).get("endpoint") if document else None
            if isinstance(endpoint, str):
                parts = urlsplit(endpoint)
                if (parts.hostname, parts.port) == (SIMULATOR_HOST, SIMULATOR_PORT):
                    document["spec"]["endpoint"] = simulator_url
            if document:
                documents.append(document)
    return documents


def _install(plane: controlplane.ControlPlane, root: Path, simulator_url: str) -> None:
    # The CRD and RBAC exactly as a cluster install gets them; the operator itself runs here.
    _kubectl(plane, "apply", "-k", str(root / "manifests"))
    _kubectl(
        plane, "wait", "--for=condition=Established", "crd/cloudmodelservices.cloudmodel.io", "--timeout=60s"
    )
    _kubectl(plane, "apply", "-f", "-", stdin=yaml.safe_dump_all(samples(root / "examples", simulator_url)))


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


def main(scenario: str | None, simulator_port: int = SIMULATOR_PORT, metrics_port: int = 0) -> int:
    """Run until Ctrl-C. `metrics_port` 0 picks a free port."""
    from cloudmodel_dev.simulator.scenario import load_scenario
    from cloudmodel_dev.simulator.server import run_in_thread
    from cloudmodel_operator.app import run

    logsetup.configure(logging.INFO)
    try:
        # Both ports are checked before the control plane starts, so a clash costs no time.
        _claimable(SIMULATOR_HOST, simulator_port, "provider simulator", "--simulator-port")
        if metrics_port:
            _claimable("0.0.0.0", metrics_port, "operator metrics", "--metrics-port")  # noqa: S104 - its bind address
        root = controlplane.repo_root()
        state_dir = Path.cwd() / SANDBOX_DIR
        shutil.rmtree(state_dir, ignore_errors=True)
        loaded = load_scenario(scenario)
        with controlplane.start(state_dir / "controlplane", keep=True) as plane:
            try:
                simulator_context = run_in_thread(loaded, host=SIMULATOR_HOST, port=simulator_port)
                simulator = simulator_context.__enter__()
            except OSError as exc:  # taken since the check above
                raise _unavailable(exc, simulator_port, "provider simulator", "--simulator-port") from exc
            try:
                _install(plane, root, simulator.url)
                kubeconfig = plane.kubeconfig_path()
                metrics_port = metrics_port or controlplane.free_port()
                print(_banner(kubeconfig, simulator.url, metrics_port), file=sys.stderr, flush=True)
                try:
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
                except OSError as exc:
                    if exc.errno != errno.EADDRINUSE:
                        raise
                    raise _unavailable(exc, metrics_port, "operator metrics", "--metrics-port") from exc
            finally:
                simulator_context.__exit__(None, None, None)
    except PortUnavailable as exc:
        print(f"cloudmodel-dev sandbox: {exc}", file=sys.stderr)
        return 1
    except controlplane.ControlPlaneError as exc:
        print(f"cloudmodel-dev sandbox: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0
