"""The CloudModelService CRD on the real apiserver: bad specs are refused with messages naming the field."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from cloudmodel_operator.api.spec import GROUP, PLURAL, VERSION
from tests.conftest import Cluster
from tests.e2e.kube_helpers import cms, install_crd, objects

HOLOGRES = {"provider": "alibaba-hologres", "region": "cn-hangzhou", "instanceId": "hgpostcn-cn-abc123"}
MODELARTS = {
    "provider": "huawei-modelarts",
    "region": "cn-north-4",
    "projectId": "0123456789abcdef0123456789abcdef",
    "serviceId": "f6e0a3c1-2b4d-4e5f-8a9b-0c1d2e3f4a5b",
}
QIANFAN = {"provider": "baidu-qianfan", "region": "bj", "instanceId": "unit-abc"}
GUARDRAIL = {
    "provider": "alibaba-guardrail",
    "region": "cn-shanghai",
    "modelInstanceId": 1001,
    "sceneType": 2,
}


def create(cluster: Cluster, namespace: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    body = cms(namespace, name, {**spec, "credentialsSecretRef": {"name": "creds"}})
    result: dict[str, Any] = objects(cluster).create_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, body
    )
    return result


def refusal(cluster: Cluster, namespace: str, spec: dict[str, Any]) -> str:
    with pytest.raises(ApiException) as caught:
        create(cluster, namespace, "bad", spec)
    assert caught.value.status == 422, caught.value.body
    return str(json.loads(caught.value.body)["message"])


@pytest.fixture(autouse=True)
def crd(cluster: Cluster) -> None:
    install_crd(cluster)


@pytest.mark.e2e
@pytest.mark.parametrize("spec", [HOLOGRES, MODELARTS, QIANFAN, GUARDRAIL], ids=lambda s: s["provider"])
def test_valid_specs_are_accepted_with_defaults(
    cluster: Cluster, namespace: str, spec: dict[str, Any]
) -> None:
    created = create(cluster, namespace, "good", spec)
    assert created["spec"]["pollInterval"] == "60s"
    assert created["spec"]["suspend"] is False


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            {k: v for k, v in MODELARTS.items() if k != "projectId"},
            "spec.projectId: Required value: spec.projectId is required when provider is huawei-modelarts",
        ),
        (
            {k: v for k, v in MODELARTS.items() if k != "serviceId"},
            "spec.serviceId: Required value: spec.serviceId is required when provider is huawei-modelarts",
        ),
        (
            {**MODELARTS, "instanceId": "i-1"},
            "spec.instanceId: Forbidden: spec.instanceId is only valid when provider is alibaba-hologres or baidu-qianfan",
        ),
        (
            {k: v for k, v in HOLOGRES.items() if k != "instanceId"},
            "spec.instanceId: Required value: spec.instanceId is required when provider is alibaba-hologres",
        ),
        (
            {k: v for k, v in QIANFAN.items() if k != "instanceId"},
            "spec.instanceId: Required value: spec.instanceId is required when provider is baidu-qianfan",
        ),
        (
            {k: v for k, v in GUARDRAIL.items() if k != "sceneType"},
            "spec.sceneType: Required value: spec.sceneType is required when provider is alibaba-guardrail",
        ),
        (
            {**HOLOGRES, "projectId": "0123456789abcdef0123456789abcdef"},
            "spec.projectId: Forbidden: spec.projectId is only valid when provider is huawei-modelarts",
        ),
        (
            {**MODELARTS, "projectId": "NOT-HEX"},
            'spec.projectId: Invalid value: "NOT-HEX": spec.projectId must be 32 lowercase hexadecimal characters',
        ),
        (
            {**MODELARTS, "serviceId": "svc-1"},
            'spec.serviceId: Invalid value: "svc-1": spec.serviceId must be a lowercase UUID',
        ),
        (
            {**HOLOGRES, "region": "CN_Hangzhou"},
            'spec.region: Invalid value: "CN_Hangzhou": spec.region must be lowercase letters, digits and dashes',
        ),
        (
            {**HOLOGRES, "endpoint": "ftp://x"},
            'spec.endpoint: Invalid value: "ftp://x": spec.endpoint must be an absolute http(s) URL',
        ),
        (
            {**HOLOGRES, "pollInterval": "5s"},
            'spec.pollInterval: Invalid value: "5s": spec.pollInterval must be a duration of at least 10s',
        ),
        (
            {**HOLOGRES, "pollInterval": "often"},
            'spec.pollInterval: Invalid value: "often": spec.pollInterval must be a duration of at least 10s',
        ),
        ({**HOLOGRES, "provider": "aws-bedrock"}, 'spec.provider: Unsupported value: "aws-bedrock"'),
        ({**GUARDRAIL, "sceneType": 7}, "spec.sceneType: Unsupported value: 7"),
    ],
    ids=lambda value: value.split(":")[0] if isinstance(value, str) else None,
)
def test_bad_specs_are_refused_naming_the_field(
    cluster: Cluster, namespace: str, spec: dict[str, Any], expected: str
) -> None:
    assert expected in refusal(cluster, namespace, spec)


@pytest.mark.e2e
def test_secret_ref_cannot_name_another_namespace(cluster: Cluster, namespace: str) -> None:
    body = cms(
        namespace,
        "cross",
        {**HOLOGRES, "credentialsSecretRef": {"name": "creds", "namespace": "kube-system"}},
    )
    with pytest.raises(ApiException) as caught:
        objects(cluster).create_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, body, field_validation="Strict"
        )
    # Strict field validation reports the unknown field instead of silently pruning it.
    assert 'unknown field "spec.credentialsSecretRef.namespace"' in json.loads(caught.value.body)["message"]


@pytest.mark.e2e
def test_kubectl_reports_the_refusal(cluster: Cluster, namespace: str, tmp_path: Any) -> None:
    manifest = tmp_path / "bad.json"
    spec = {k: v for k, v in MODELARTS.items() if k != "projectId"}
    manifest.write_text(json.dumps(cms(namespace, "bad", {**spec, "credentialsSecretRef": {"name": "c"}})))
    result = cluster.kubectl("apply", "-f", str(manifest), check=False)
    assert result.returncode != 0
    assert "spec.projectId is required when provider is huawei-modelarts" in result.stderr
