"""Waiting on the API server's own signals instead of sleeping."""

from __future__ import annotations

from kubernetes import client, watch

from tests.conftest import Cluster


def _established(crd: dict[str, object] | client.V1CustomResourceDefinition) -> bool:
    status = crd.status if not isinstance(crd, dict) else None
    conditions = (status.conditions if status is not None else None) or []
    return any(c.type == "Established" and c.status == "True" for c in conditions)


def wait_for_crd(cluster: Cluster, name: str, timeout: int = 60) -> None:
    """Block until the CRD is Established, from a watch of it.

    `kubectl wait --for=condition=Established` fails outright ("accessor error: <nil>") when it
    reads a CRD created a moment ago whose status has no conditions yet.
    """
    api = client.ApiextensionsV1Api(cluster.api_client())
    listing = api.list_custom_resource_definition(field_selector=f"metadata.name={name}")
    if any(_established(crd) for crd in listing.items):
        return
    for event in watch.Watch().stream(
        api.list_custom_resource_definition,
        field_selector=f"metadata.name={name}",
        resource_version=listing.metadata.resource_version,
        timeout_seconds=timeout,
    ):
        if _established(event["object"]):
            return
    raise AssertionError(f"CRD {name} not Established within {timeout}s")
