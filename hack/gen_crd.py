"""Generate crds/cloudmodel.io_cloudmodelservices.yaml.

The spec schema and its CEL rules are written out here by hand (they are the API's contract);
the status schema is derived from the pydantic status model, so the two cannot drift apart.
Run `make crd` after changing either; a test fails when the committed file is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from cloudmodel_operator.api.spec import GROUP, KIND, PLURAL, VERSION
from cloudmodel_operator.api.status import CloudModelServiceStatus

OUT = Path(__file__).resolve().parent.parent / "crds" / "cloudmodel.io_cloudmodelservices.yaml"

PROVIDER_FIELDS = {
    "alibaba-hologres": ["instanceId"],
    "baidu-qianfan": ["instanceId"],
    "huawei-modelarts": ["projectId", "serviceId"],
    "alibaba-guardrail": ["modelInstanceId", "sceneType"],
}
TARGET_FIELDS = ["instanceId", "projectId", "serviceId", "modelInstanceId", "sceneType"]


def _cel_rules() -> list[dict[str, str]]:
    rules: list[dict[str, str]] = []
    for provider, fields in PROVIDER_FIELDS.items():
        for field in fields:
            rules.append(
                {
                    "rule": f"self.provider != '{provider}' || has(self.{field})",
                    "message": f"spec.{field} is required when provider is {provider}",
                    "fieldPath": f".{field}",
                    "reason": "FieldValueRequired",
                }
            )
    for field in TARGET_FIELDS:
        owners = [p for p, fields in PROVIDER_FIELDS.items() if field in fields]
        allowed = " || ".join(f"self.provider == '{p}'" for p in owners)
        rules.append(
            {
                "rule": f"!has(self.{field}) || {allowed}",
                "message": f"spec.{field} is only valid when provider is {' or '.join(owners)}",
                "fieldPath": f".{field}",
                "reason": "FieldValueForbidden",
            }
        )
    return rules


def spec_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "Which provider object to mirror, with which credentials, how often.",
        "required": ["provider", "region", "credentialsSecretRef"],
        "properties": {
            "provider": {
                "type": "string",
                "enum": list(PROVIDER_FIELDS),
                "description": "The cloud API to read: one of " + ", ".join(PROVIDER_FIELDS) + ".",
            },
            "region": {
                "type": "string",
                "minLength": 1,
                "maxLength": 63,
                "description": "Provider region, e.g. cn-hangzhou, cn-north-4, bj.",
                "x-kubernetes-validations": [
                    {
                        "rule": "self.matches('^[a-z0-9]+(-[a-z0-9]+)*$')",
                        "message": "spec.region must be lowercase letters, digits and dashes, e.g. cn-hangzhou",
                    }
                ],
            },
            "instanceId": {
                "type": "string",
                "minLength": 1,
                "maxLength": 128,
                "description": "Hologres instance ID (alibaba-hologres) or Qianfan compute-unit ID (baidu-qianfan).",
                "x-kubernetes-validations": [
                    {
                        "rule": "self.matches('^[A-Za-z0-9][A-Za-z0-9_.-]*$')",
                        "message": "spec.instanceId must be letters, digits, '.', '_' and '-' only",
                    }
                ],
            },
            "projectId": {
                "type": "string",
                "description": "Huawei Cloud project ID (huawei-modelarts): 32 hexadecimal characters.",
                "x-kubernetes-validations": [
                    {
                        "rule": "self.matches('^[0-9a-f]{32}$')",
                        "message": "spec.projectId must be 32 lowercase hexadecimal characters",
                    }
                ],
            },
            "serviceId": {
                "type": "string",
                "description": "ModelArts service ID (huawei-modelarts), a UUID.",
                "x-kubernetes-validations": [
                    {
                        "rule": "self.matches('^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')",
                        "message": "spec.serviceId must be a lowercase UUID",
                    }
                ],
            },
            "modelInstanceId": {
                "type": "integer",
                "format": "int64",
                "minimum": 1,
                "description": "AI guardrails model instance ID (alibaba-guardrail).",
            },
            "sceneType": {
                "type": "integer",
                "enum": [0, 1, 2],
                "description": "AI guardrails scene type (alibaba-guardrail): 0 input, 1 output, 2 both.",
            },
            "endpoint": {
                "type": "string",
                "maxLength": 2048,
                "description": (
                    "Base URL overriding the provider's regional endpoint. The operator only calls https "
                    "provider hosts unless started with --allow-endpoint."
                ),
                "x-kubernetes-validations": [
                    {
                        "rule": "isURL(self) && url(self).getScheme() in ['http', 'https']",
                        "message": "spec.endpoint must be an absolute http(s) URL",
                    }
                ],
            },
            "credentialsSecretRef": {
                "type": "object",
                "description": "A Secret in the same namespace holding the provider's credential keys.",
                "required": ["name"],
                "properties": {
                    "name": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 253,
                        "x-kubernetes-validations": [
                            {
                                "rule": "self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",
                                "message": "spec.credentialsSecretRef.name must be a valid Secret name",
                            }
                        ],
                    }
                },
            },
            "pollInterval": {
                "type": "string",
                "default": "60s",
                "description": "How often to fetch the provider object (jittered), at least 10s.",
                "x-kubernetes-validations": [
                    {
                        "rule": "self.matches('^([0-9]+(\\\\.[0-9]+)?(ms|s|m|h))+$') && duration(self) >= duration('10s')",
                        "message": "spec.pollInterval must be a duration of at least 10s, e.g. 30s, 5m",
                    }
                ],
            },
            "suspend": {
                "type": "boolean",
                "default": False,
                "description": "Stop polling; the status keeps the last observation.",
            },
        },
        "x-kubernetes-validations": _cel_rules(),
    }


def _structural(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """Turn a pydantic JSON schema node into a structural OpenAPI v3 node."""
    if "$ref" in schema:
        return _structural(defs[schema["$ref"].split("/")[-1]], defs)
    if "anyOf" in schema:
        options = [s for s in schema["anyOf"] if s.get("type") != "null"]
        if len(options) != 1:
            raise ValueError(f"cannot express {schema} structurally")
        node = _structural(options[0], defs)
        if "description" in schema:
            node["description"] = schema["description"]
        return node
    if "enum" in schema and "type" not in schema:
        return {"type": "string", "enum": schema["enum"]}
    kind = schema.get("type")
    node: dict[str, Any] = {}
    if "description" in schema:
        node["description"] = " ".join(schema["description"].split())
    if kind == "object":
        node["type"] = "object"
        if "properties" in schema:
            node["properties"] = {k: _structural(v, defs) for k, v in schema["properties"].items()}
            if schema.get("required"):
                node["required"] = list(schema["required"])
        if isinstance(schema.get("additionalProperties"), dict):
            node["additionalProperties"] = _structural(schema["additionalProperties"], defs)
    elif kind == "array":
        node["type"] = "array"
        node["items"] = _structural(schema["items"], defs)
    elif kind == "string":
        node["type"] = "string"
        if schema.get("format") == "date-time":
            node["format"] = "date-time"
        if "enum" in schema:
            node["enum"] = schema["enum"]
    elif kind in ("integer", "number", "boolean"):
        node["type"] = kind
        if "minimum" in schema:
            node["minimum"] = schema["minimum"]
    else:
        raise ValueError(f"unsupported schema node {schema}")
    return node


def status_schema() -> dict[str, Any]:
    raw = CloudModelServiceStatus.model_json_schema(mode="serialization")
    node = _structural(raw, raw.get("$defs", {}))
    node["description"] = "What the operator last observed at the provider, and how syncing goes."
    conditions = node["properties"]["conditions"]
    conditions["x-kubernetes-list-type"] = "map"
    conditions["x-kubernetes-list-map-keys"] = ["type"]
    return node


def printer_columns() -> list[dict[str, Any]]:
    """Columns for the person looking at a failing resource: the default view fits 120 columns
    and shows what is wrong (READY and REASON) without -o wide."""
    ready = '.status.conditions[?(@.type=="Ready")]'
    return [
        {"name": "Provider", "type": "string", "jsonPath": ".spec.provider"},
        {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
        {"name": "Ready", "type": "string", "jsonPath": f"{ready}.status", "description": "the Ready condition"},
        {"name": "Reason", "type": "string", "jsonPath": ".status.summary.reason",
         "description": "a stalled or failing sync's reason, else Ready's"},
        {"name": "Replicas", "type": "string", "jsonPath": ".status.summary.replicas", "description": "ready/desired"},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
        {"name": "Synced", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Synced")].status',
         "priority": 1},
        {"name": "Services", "type": "string", "jsonPath": ".status.summary.services", "priority": 1,
         "description": "ready/total model services"},
        {"name": "GPU", "type": "string", "jsonPath": ".status.summary.gpu", "priority": 1,
         "description": "used/total cards"},
        {"name": "CU", "type": "string", "jsonPath": ".status.summary.computeUnits", "priority": 1,
         "description": "used/total compute units"},
        {"name": "Target", "type": "string", "jsonPath": ".status.target", "priority": 1},
        {"name": "Region", "type": "string", "jsonPath": ".spec.region", "priority": 1},
        {"name": "Last-Sync", "type": "date", "jsonPath": ".status.lastSyncTime", "priority": 1},
        {"name": "Message", "type": "string", "jsonPath": f"{ready}.message", "priority": 1},
    ]  # fmt: skip


def crd() -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{PLURAL}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": KIND,
                "listKind": f"{KIND}List",
                "plural": PLURAL,
                "singular": KIND.lower(),
                "shortNames": ["cms"],
                "categories": ["cloudmodel"],
            },
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": printer_columns(),
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "description": (
                                "CloudModelService mirrors one model service, instance or compute unit of a "
                                "cloud provider into its status. The operator never changes the remote object."
                            ),
                            "properties": {
                                "apiVersion": {"type": "string"},
                                "kind": {"type": "string"},
                                "metadata": {"type": "object"},
                                "spec": spec_schema(),
                                "status": status_schema(),
                            },
                            "required": ["spec"],
                        }
                    },
                }
            ],
        },
    }


def render() -> str:
    header = "# Generated by hack/gen_crd.py (make crd). Do not edit by hand.\n"
    return header + yaml.safe_dump(crd(), sort_keys=False, allow_unicode=True, width=120)


if __name__ == "__main__":
    if "--check" in sys.argv:
        sys.exit(0 if OUT.read_text() == render() else 1)
    OUT.write_text(render())
    print(OUT)
