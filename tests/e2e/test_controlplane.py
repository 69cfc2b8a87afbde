"""The test control plane is a real API server: schemas, the status subresource, printer columns, RBAC."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.conftest import Cluster
from tests.e2e.crd_helpers import wait_for_crd

pytestmark = pytest.mark.e2e

GROUP = "throwaway.cloudmodel.io"


@pytest.fixture
def throwaway_crd(cluster: Cluster) -> Iterator[str]:
    plural = f"widgets{uuid.uuid4().hex[:6]}"
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"plural": plural, "singular": plural[:-1], "kind": f"W{plural}"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [
                        {"name": "Colour", "type": "string", "jsonPath": ".status.colour"},
                    ],
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
                                "status": {"type": "object", "properties": {"colour": {"type": "string"}}},
                            },
                        }
                    },
                }
            ],
        },
    }
    cluster.apply(crd)
    wait_for_crd(cluster, f"{plural}.{GROUP}")
    yield plural
    cluster.kubectl("delete", "crd", f"{plural}.{GROUP}", "--wait=false")


def test_status_subresource_printer_columns_and_rbac(
    cluster: Cluster, namespace: str, throwaway_crd: str
) -> None:
    plural = throwaway_crd
    api = cluster.api_client()
    objects = client.CustomObjectsApi(api)
    objects.create_namespaced_custom_object(
        GROUP, "v1", namespace, plural,
        {"apiVersion": f"{GROUP}/v1", "kind": f"W{plural}", "metadata": {"name": "one"}, "spec": {"size": 1}},
    )  # fmt: skip

    patched = objects.patch_namespaced_custom_object_status(
        GROUP, "v1", namespace, plural, "one", {"spec": {"size": 99}, "status": {"colour": "teal"}}
    )
    # (a) the status subresource ignores spec changes but takes the status
    assert patched["spec"]["size"] == 1
    assert patched["status"]["colour"] == "teal"
    stored = objects.get_namespaced_custom_object(GROUP, "v1", namespace, plural, "one")
    assert stored["spec"]["size"] == 1
    # ...and the main resource ignores status changes
    objects.patch_namespaced_custom_object(
        GROUP, "v1", namespace, plural, "one", {"status": {"colour": "red"}}
    )
    assert (
        objects.get_namespaced_custom_object(GROUP, "v1", namespace, plural, "one")["status"]["colour"]
        == "teal"
    )

    # (b) server-side printing through kubectl
    table = cluster.kubectl("get", plural, "one", "-n", namespace).stdout
    header, row = table.strip().splitlines()
    # An explicit column list replaces the default one: no AGE unless the CRD declares it.
    assert header.split() == ["NAME", "COLOUR"]
    assert row.split()[:2] == ["one", "teal"]

    # (c) the unprivileged user may not patch status
    unprivileged = client.CustomObjectsApi(cluster.unprivileged_api_client())
    with pytest.raises(ApiException) as refused:
        unprivileged.patch_namespaced_custom_object_status(
            GROUP, "v1", namespace, plural, "one", {"status": {"colour": "black"}}
        )
    assert refused.value.status == 403
    assert json.loads(refused.value.body)["reason"] == "Forbidden"
    assert (
        objects.get_namespaced_custom_object(GROUP, "v1", namespace, plural, "one")["status"]["colour"]
        == "teal"
    )


def test_version_is_stamped(cluster: Cluster) -> None:
    info = client.VersionApi(cluster.api_client()).get_code()
    assert info.git_version.startswith("v1.")
    assert info.git_version != "v0.0.0-master+$Format:%H$"
    assert int(info.minor) >= 30
