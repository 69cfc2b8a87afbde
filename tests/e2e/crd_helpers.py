"""Waiting on the API server's own signals instead of sleeping."""

from __future__ import annotations

from tests.conftest import Cluster


def wait_for_crd(cluster: Cluster, name: str, timeout: str = "60s") -> None:
    """Block until the CRD is Established (kubectl watches the condition)."""
    cluster.kubectl("wait", "--for=condition=Established", f"crd/{name}", f"--timeout={timeout}")
