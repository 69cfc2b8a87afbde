"""Where the operator's Kubernetes credentials come from: one loader for our client and Kopf's."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import kopf
from kubernetes import client, config

# kubernetes<36 logs every response body at DEBUG, Secrets included (their last-applied
# annotation carries stringData in clear): never let that logger go below INFO.
logging.getLogger("kubernetes.client.rest").setLevel(logging.INFO)


def load_configuration(kubeconfig: str | None = None) -> client.Configuration:
    """In-cluster service account when running in a pod, else the kubeconfig.

    The kubeconfig is resolved at call time (an explicit path, then $KUBECONFIG, then
    ~/.kube/config), not when the kubernetes package was imported.
    """
    configuration = client.Configuration()
    if kubeconfig is None and os.environ.get("KUBERNETES_SERVICE_HOST"):
        config.load_incluster_config(client_configuration=configuration)
    else:
        path = kubeconfig or os.environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config")
        config.load_kube_config(config_file=path, client_configuration=configuration)
    return configuration


def load_api_client(kubeconfig: str | None = None) -> client.ApiClient:
    return client.ApiClient(load_configuration(kubeconfig))


def connection_info(kubeconfig: str | None = None) -> kopf.ConnectionInfo:
    """The same credentials in the shape Kopf's watcher wants."""
    configuration = load_configuration(kubeconfig)
    header = configuration.get_api_key_with_prefix("BearerToken") or configuration.get_api_key_with_prefix(
        "authorization"
    )
    scheme, _, token = (header or "").rpartition(" ")
    return kopf.ConnectionInfo(
        server=configuration.host,
        ca_path=configuration.ssl_ca_cert,
        insecure=not configuration.verify_ssl,
        username=configuration.username or None,
        password=configuration.password or None,
        scheme=scheme or ("Bearer" if token else None),
        token=token or None,
        certificate_path=configuration.cert_file,
        private_key_path=configuration.key_file,
    )
