"""Shared fixtures: a real kube-apiserver + etcd for the whole session, a namespace per test.

Set CLOUDMODEL_TEST_KUBECONFIG to run the same tests against an existing cluster (e.g. kind);
the unprivileged user is then reached through impersonation by the admin credentials.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from cloudmodel_dev import controlplane

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Cluster:
    kubeconfig: Path
    kubectl_bin: Path
    unprivileged_user: str
    unprivileged_kubeconfig: Path | None  # None: impersonate instead

    def api_client(self) -> client.ApiClient:
        return config.new_client_from_config(config_file=str(self.kubeconfig))

    def unprivileged_api_client(self) -> client.ApiClient:
        if self.unprivileged_kubeconfig is not None:
            return config.new_client_from_config(config_file=str(self.unprivileged_kubeconfig))
        api = self.api_client()
        api.set_default_header("Impersonate-User", self.unprivileged_user)
        return api

    def kubectl(
        self, *args: str, check: bool = True, unprivileged: bool = False, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        command = [str(self.kubectl_bin), f"--kubeconfig={self.kubeconfig}"]
        if unprivileged:
            if self.unprivileged_kubeconfig is not None:
                command[1] = f"--kubeconfig={self.unprivileged_kubeconfig}"
            else:
                command.append(f"--as={self.unprivileged_user}")
        result = subprocess.run(
            [*command, *args], input=stdin, capture_output=True, text=True, check=False, timeout=120
        )
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result

    def apply(
        self, manifest: dict[str, Any] | str, *, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        text = manifest if isinstance(manifest, str) else json.dumps(manifest)
        return self.kubectl("apply", "-f", "-", stdin=text, check=check)


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    external = os.environ.get("CLOUDMODEL_TEST_KUBECONFIG")
    if external:
        kubectl = shutil.which("kubectl")
        yield Cluster(
            kubeconfig=Path(external),
            kubectl_bin=Path(kubectl) if kubectl else controlplane.ensure_binaries() / "kubectl",
            unprivileged_user=controlplane.UNPRIVILEGED_USER,
            unprivileged_kubeconfig=None,
        )
        return
    try:
        plane_context = controlplane.start()
        plane = plane_context.__enter__()
    except controlplane.ControlPlaneError as exc:
        pytest.exit(f"the test control plane is not available: {exc}", returncode=3)
    try:
        yield Cluster(
            kubeconfig=plane.kubeconfig_path(controlplane.ADMIN_USER),
            kubectl_bin=plane.kubectl,
            unprivileged_user=controlplane.UNPRIVILEGED_USER,
            unprivileged_kubeconfig=plane.kubeconfig_path(controlplane.UNPRIVILEGED_USER),
        )
    finally:
        plane_context.__exit__(None, None, None)


@pytest.fixture
def namespace(cluster: Cluster) -> Iterator[str]:
    name = f"t-{uuid.uuid4().hex[:10]}"
    api = cluster.api_client()
    core = client.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": name}})
    try:
        yield name
    finally:
        # No namespace controller runs on the test control plane: the namespace stays Terminating,
        # which is harmless; every test uses a fresh one.
        core.delete_namespace(name)
        api.close()
