"""Signed calls to a running simulator, one helper per provider route."""

from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import quote, urlsplit

import httpx

from cloudmodel_dev.simulator.server import SimulatorHandle
from tests.oracles import sdk

ALIBABA = ("LTAIsandbox", "sandbox-alibaba-secret")
HUAWEI = ("HWSANDBOXAK", "sandbox-huawei-secret")
BAIDU = ("bce-sandbox-ak", "sandbox-baidu-secret")
HUAWEI_USER = {"domain": "sandbox", "user": "operator", "password": "sandbox-password"}

PROJECT = "0c9d4a5e2b1f4c6d8e7f0a1b2c3d4e5f"
SERVICE_RUNNING = "6f1c2b9e-3d4a-4b8c-9e7f-1a2b3c4d5e6f"
SERVICE_DEPLOYING = "a3e5c7d9-1b2f-4c6e-8a0b-2d4f6a8c0e1f"
SERVICE_FAILED = "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"


def _host(sim: SimulatorHandle) -> str:
    return urlsplit(sim.url).netloc


def hologres(
    sim: SimulatorHandle, instance_id: str, now: datetime, key: tuple[str, str] = ALIBABA
) -> httpx.Response:
    path = f"/api/v1/instances/{quote(instance_id, safe='')}/getInstanceModel"
    headers = sdk.alibaba_headers(
        "GET", path, {}, _host(sim), b"", *key, action="GetInstanceModel", version="2022-06-01", now=now
    )
    return httpx.get(sim.url + path, headers=headers)


def guardrail(
    sim: SimulatorHandle, instance: int, scene: int, now: datetime, key: tuple[str, str] = ALIBABA
) -> httpx.Response:
    query = {"ModelInstanceId": str(instance), "SceneType": str(scene)}
    headers = sdk.alibaba_headers(
        "POST",
        "/",
        query,
        _host(sim),
        b"",
        *key,
        action="GetModelInstanceInfo",
        version="2024-07-01",
        now=now,
    )
    return httpx.post(f"{sim.url}/?{sdk.encode_query(list(query.items()))}", headers=headers)


def modelarts(
    sim: SimulatorHandle, project: str, service: str, now: datetime, key: tuple[str, str] = HUAWEI
) -> httpx.Response:
    path = f"/v1/{project}/services/{service}"
    headers, uri = sdk.huawei_headers("GET", path, [], _host(sim), b"", *key, now=now)
    return httpx.get(sim.url + uri, headers=headers)


def modelarts_with_token(sim: SimulatorHandle, project: str, service: str, token: str) -> httpx.Response:
    return httpx.get(f"{sim.url}/v1/{project}/services/{service}", headers={"X-Auth-Token": token})


def iam_token(
    sim: SimulatorHandle,
    *,
    user: str = "operator",
    password: str = "sandbox-password",
    project: str = PROJECT,
) -> httpx.Response:
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": user, "password": password, "domain": {"name": "sandbox"}}},
            },
            "scope": {"project": {"id": project}},
        }
    }
    return httpx.post(f"{sim.url}/v3/auth/tokens", json=body)


def qianfan_request(
    sim: SimulatorHandle, instance_id: str, now: datetime, key: tuple[str, str] = BAIDU
) -> httpx.Request:
    body = json.dumps({"instanceId": instance_id}).encode()
    query = {"Action": "DescribeComputeUnit"}
    headers = sdk.baidu_headers("POST", "/v2/computeunit", query, _host(sim), body, *key, now=now)
    return httpx.Request(
        "POST", f"{sim.url}/v2/computeunit?Action=DescribeComputeUnit", headers=headers, content=body
    )


def qianfan(
    sim: SimulatorHandle, instance_id: str, now: datetime, key: tuple[str, str] = BAIDU
) -> httpx.Response:
    with httpx.Client() as client:
        return client.send(qianfan_request(sim, instance_id, now, key))
