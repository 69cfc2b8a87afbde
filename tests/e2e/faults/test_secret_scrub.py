"""Nothing secret leaves the operator: a full run at --log-level DEBUG with providers that echo credentials.

Every provider (Hologres, guardrail, ModelArts with AK/SK and with an IAM password, Qianfan, and
the temporary STS / security-token credentials of both clouds that have them) answers with every
text followed by the request's credentials: its Authorization header, X-Auth-Token, the security
token, `Bearer <token>`, the secrets the simulator holds for the caller. Other resources use wrong
secrets and a wrong IAM password. Then every status, every Event, every line the operator process
wrote (its log, warnings and tracebacks included) and its whole /metrics text are searched for
every credential value: as is, base64-encoded (the form a Secret's data has), and, for the
operator's own API server token, HPACK-encoded (the form an HTTP/2 header block has).
"""

from __future__ import annotations

import ast
import base64
import json
import re
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from hpack.huffman import HuffmanEncoder
from hpack.huffman_constants import REQUEST_CODES, REQUEST_CODES_LENGTH
from kubernetes import client

from cloudmodel_dev.simulator.bodies import SECRET_VALUES
from cloudmodel_dev.simulator.scenario import parse_scenario
from cloudmodel_dev.simulator.server import run_in_thread
from cloudmodel_operator.api.spec import GROUP, PLURAL, VERSION
from tests.conftest import Cluster
from tests.e2e.faults.support import CREDENTIALS, PROJECT, StatusRecorder, new_namespace
from tests.e2e.kube_helpers import cms, install_crd, secret
from tests.operator_process import OperatorProcess

pytestmark = pytest.mark.e2e

STS = {
    "alibaba-sts": {"accessKeyId": "STS.sandbox", "accessKeySecret": "sts-alibaba-secret-0001",
                    "securityToken": "sts-alibaba-security-token-0001"},
    "huawei-sts": {"accessKey": "HWSTSSANDBOX", "secretKey": "sts-huawei-secret-0001",
                   "securityToken": "sts-huawei-security-token-0001"},
}  # fmt: skip
WRONG = {
    "wrong-alibaba": {**CREDENTIALS["alibaba"], "accessKeySecret": "wrong-alibaba-secret-0001"},
    "wrong-huawei": {**CREDENTIALS["huawei"], "secretKey": "wrong-huawei-secret-0001"},
    "wrong-iam": {**CREDENTIALS["huawei-iam"], "password": "wrong-iam-password-0001"},
    "wrong-baidu": {**CREDENTIALS["baidu"], "secretKey": "wrong-baidu-secret-0001"},
}
SECRETS = {**CREDENTIALS, **STS, **WRONG}
IDENTITY_KEYS = {"accessKeyId", "accessKey", "domainName", "username"}  # names, not secrets

# (resource, provider, Secret, echoes): every account against its provider.
RESOURCES = [
    ("hologres", "alibaba-hologres", "alibaba", True),
    ("hologres-sts", "alibaba-hologres", "alibaba-sts", True),
    ("guardrail", "alibaba-guardrail", "alibaba", True),
    ("modelarts-aksk", "huawei-modelarts", "huawei", True),
    ("modelarts-sts", "huawei-modelarts", "huawei-sts", True),
    ("modelarts-iam", "huawei-modelarts", "huawei-iam", True),
    ("qianfan", "baidu-qianfan", "baidu", True),
    ("hologres-denied", "alibaba-hologres", "wrong-alibaba", False),
    ("modelarts-denied", "huawei-modelarts", "wrong-huawei", False),
    ("modelarts-iam-denied", "huawei-modelarts", "wrong-iam", False),
    ("qianfan-denied", "baidu-qianfan", "wrong-baidu", False),
]


def _target(provider: str, name: str) -> tuple[str, dict[str, Any]]:
    """The simulator id of this resource's target and the spec fields naming it."""
    if provider == "alibaba-hologres":
        return f"hgpostcn-cn-scrub-{name}", {
            "region": "cn-hangzhou",
            "instanceId": f"hgpostcn-cn-scrub-{name}",
        }
    if provider == "alibaba-guardrail":
        return "4242/scene-2", {"region": "cn-shanghai", "modelInstanceId": 4242, "sceneType": 2}
    if provider == "huawei-modelarts":
        service = f"5c0ab0e2-0000-4000-8000-{abs(hash(name)) % 10**12:012d}"
        return f"{PROJECT}/{service}", {"region": "cn-north-4", "projectId": PROJECT, "serviceId": service}
    return f"unit-scrub-{name}", {"region": "bj", "instanceId": f"unit-scrub-{name}"}


@dataclass
class Run:
    statuses: dict[str, dict[str, Any]]
    events: list[str]
    log: str
    metrics: str
    forbidden: dict[str, bytes]  # what it is -> the bytes that must appear nowhere


def _hpack(value: str) -> bytes:
    return HuffmanEncoder(REQUEST_CODES, REQUEST_CODES_LENGTH).encode(value.encode())


BYTES_LITERAL = re.compile(r"\bb'(?:[^'\\]|\\.)*'" + r'|\bb"(?:[^"\\]|\\.)*"')


def _bytes_in(log: str) -> list[bytes]:
    """Every Python bytes literal the log holds, decoded (HTTP libraries log headers and frames so)."""
    return [ast.literal_eval(found) for found in BYTES_LITERAL.findall(log)]


@pytest.fixture(scope="module")
def run(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Run:
    install_crd(cluster)
    ns = new_namespace(cluster, "scrub")
    # The sandbox accounts, and temporary (STS) ones with their security tokens.
    scenario = {
        "accounts": {
            "alibaba": [CREDENTIALS["alibaba"], STS["alibaba-sts"]],
            "huawei": [CREDENTIALS["huawei"], STS["huawei-sts"]],
            "huaweiUsers": [CREDENTIALS["huawei-iam"]],
            "baidu": [CREDENTIALS["baidu"]],
        },
        "targets": [],
    }
    for name, data in SECRETS.items():
        secret(cluster, ns, name, data)
    recorder = StatusRecorder(cluster, ns)
    with run_in_thread(parse_scenario(scenario, "scrub scenario")) as sim:
        operator = OperatorProcess(cluster.kubeconfig, tmp_path_factory.mktemp("scrub"), "--standalone",
                                   f"--namespace={ns}", "--log-level=DEBUG", identity="scrub")  # fmt: skip
        try:
            operator.wait_ready()
            for name, provider, account, echoes in RESOURCES:
                target, fields = _target(provider, name)
                sim.set_target(provider, target)
                if echoes:
                    sim.add_fault(provider, target, {"kind": "echo-credentials", "count": -1})
                cluster.apply(cms(ns, name, {
                    "provider": provider, **fields, "endpoint": sim.url, "credentialsSecretRef": {"name": account},
                    "pollInterval": "10s",
                }))  # fmt: skip
            for name, _, _, _ in RESOURCES:
                # (The guardrail's echo lands in its result Code too, which then reads as an error.)
                recorder.wait(name, lambda s: "lastSyncTime" in s or "failure" in s, timeout=60,
                              what="from the first fetch")  # fmt: skip
            api = client.ApiClient(cluster.api_client().configuration)
            objects = client.CustomObjectsApi(api).list_namespaced_custom_object(GROUP, VERSION, ns, PLURAL)
            events = client.CoreV1Api(api).list_namespaced_event(ns).items
            with urllib.request.urlopen(
                f"http://127.0.0.1:{operator.metrics_port}/metrics", timeout=5
            ) as response:
                metrics = response.read().decode()
            tokens = list(sim.simulator.auth.tokens())
        finally:
            operator.close()
            recorder.stop()
    kube_token = yaml.safe_load(Path(cluster.kubeconfig).read_text())["users"][0]["user"]["token"]
    values = {f"{account}.{key}": value for account, data in SECRETS.items() for key, value in data.items()
              if key not in IDENTITY_KEYS}  # fmt: skip
    values |= {f"IAM token {n}": token for n, token in enumerate(tokens)}
    values |= {f"simulator secret {n}": value for n, value in enumerate(SECRET_VALUES)}
    values["API server token"] = kube_token
    forbidden = {what: value.encode() for what, value in values.items()}
    forbidden |= {f"{what} (base64)": base64.b64encode(value.encode()) for what, value in values.items()}
    forbidden["API server token (HPACK)"] = _hpack(f"Bearer {kube_token}")
    assert tokens, "the IAM password was never exchanged for a token"
    return Run(
        statuses={o["metadata"]["name"]: o.get("status") or {} for o in objects["items"]},
        events=[json.dumps(api.sanitize_for_serialization(e)) for e in events],
        log=operator.log(),
        metrics=metrics,
        forbidden=forbidden,
    )


def test_the_providers_echoed_the_credentials(run: Run) -> None:
    # The search below finds nothing only if there was something to find: every echoing answer
    # reached a status, with its echo masked there.
    for name, _, _, echoes in RESOURCES:
        text = json.dumps(run.statuses[name])
        if echoes:
            assert "(echo)" in text, name
            assert "***" in text, name
        else:
            assert run.statuses[name].get("failure", {}).get("reason") == "AuthenticationFailed", (
                name,
                run.statuses[name],
            )


@pytest.mark.parametrize("where", ["statuses", "events", "log", "metrics", "bytes logged"])
def test_no_credential_anywhere(run: Run, where: str) -> None:
    haystack: bytes
    if where == "statuses":
        haystack = json.dumps(run.statuses).encode()
    elif where == "events":
        haystack = "\n".join(run.events).encode()
    elif where == "log":
        haystack = run.log.encode()
    elif where == "metrics":
        haystack = run.metrics.encode()
    else:
        haystack = b"\n".join(_bytes_in(run.log))
    assert len(haystack) > 200, f"nothing to search in the {where}"
    found = [what for what, value in run.forbidden.items() if value in haystack]
    print(
        f"\n{where}: {len(haystack)} bytes searched for {len(run.forbidden)} forms of credentials: {found or 'none found'}"
    )
    assert found == []
