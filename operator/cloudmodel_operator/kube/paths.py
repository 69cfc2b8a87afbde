"""API paths of the objects the operator reads and writes."""

from __future__ import annotations

from cloudmodel_operator.api.spec import GROUP, PLURAL, VERSION


def cms_collection(namespace: str | None = None) -> str:
    if namespace:
        return f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{PLURAL}"
    return f"/apis/{GROUP}/{VERSION}/{PLURAL}"


def cms_status(namespace: str, name: str) -> str:
    return f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{PLURAL}/{name}/status"


def secrets(namespace: str | None = None) -> str:
    return f"/api/v1/namespaces/{namespace}/secrets" if namespace else "/api/v1/secrets"


def secret(namespace: str, name: str) -> str:
    return f"/api/v1/namespaces/{namespace}/secrets/{name}"


def events(namespace: str) -> str:
    return f"/api/v1/namespaces/{namespace}/events"


def event(namespace: str, name: str) -> str:
    return f"/api/v1/namespaces/{namespace}/events/{name}"


def leases(namespace: str) -> str:
    return f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"


def lease(namespace: str, name: str) -> str:
    return f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}"
