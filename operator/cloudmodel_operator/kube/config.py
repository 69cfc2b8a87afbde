"""Where the operator's Kubernetes credentials come from.

The `kubernetes` package does the hard part (in-cluster ServiceAccount tokens that rotate,
kubeconfig contexts, client certificates, exec credential plugins); we keep only what our own
async client needs from it: the server, TLS material and a way to get the current token.
"""

from __future__ import annotations

import base64
import os
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kubernetes import client, config

SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


@dataclass(frozen=True)
class KubeConfig:
    server: str
    ssl_context: ssl.SSLContext | bool
    authorization: Callable[[], str | None]
    """The current `Authorization` header value; re-evaluated per request so rotated tokens work."""
    namespace: str | None = None
    """The kubeconfig context's namespace, or the pod's own namespace in a cluster."""


def _ssl_context(configuration: client.Configuration) -> ssl.SSLContext | bool:
    if not configuration.verify_ssl:
        return False
    context = ssl.create_default_context(cafile=configuration.ssl_ca_cert or None)
    if configuration.cert_file:
        context.load_cert_chain(configuration.cert_file, configuration.key_file or None)
    return context


def _authorization(configuration: client.Configuration) -> Callable[[], str | None]:
    basic = None
    if configuration.username and configuration.password:
        pair = f"{configuration.username}:{configuration.password}".encode()
        basic = "Basic " + base64.b64encode(pair).decode()

    def header() -> str | None:
        # get_api_key_with_prefix runs the loader's refresh hook (token file re-read, exec plugin).
        token: str | None = configuration.get_api_key_with_prefix("BearerToken") or (
            configuration.get_api_key_with_prefix("authorization")
        )
        return token or basic

    return header


def load(kubeconfig: str | None = None) -> KubeConfig:
    """In-cluster ServiceAccount when running in a pod, else the kubeconfig.

    The kubeconfig is resolved at call time: an explicit path, then $KUBECONFIG, then
    ~/.kube/config.
    """
    configuration = client.Configuration()
    namespace: str | None = None
    if kubeconfig is None and os.environ.get("KUBERNETES_SERVICE_HOST"):
        config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
        if SERVICE_ACCOUNT_NAMESPACE.exists():
            namespace = SERVICE_ACCOUNT_NAMESPACE.read_text().strip() or None
    else:
        path = kubeconfig or os.environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config")
        config.load_kube_config(config_file=path, client_configuration=configuration)  # type: ignore[no-untyped-call]
        try:
            _, active = config.list_kube_config_contexts(config_file=path)  # type: ignore[no-untyped-call]
            namespace = (active or {}).get("context", {}).get("namespace")
        except config.ConfigException:
            namespace = None
    return KubeConfig(
        server=str(configuration.host).rstrip("/"),
        ssl_context=_ssl_context(configuration),
        authorization=_authorization(configuration),
        namespace=namespace,
    )
