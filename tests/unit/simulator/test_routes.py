"""Each route serves the seed-shaped body, checks auth, and answers errors in the provider's shape."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pytest

from cloudmodel_dev.simulator.bodies import SECRET_VALUES
from cloudmodel_dev.simulator.server import SimulatorHandle
from tests.oracles import sdk
from tests.unit.simulator import calls
from tests.unit.simulator.conftest import START, FakeClock


def test_hologres_serves_the_seed_body(sim: SimulatorHandle) -> None:
    response = calls.hologres(sim, "hgpostcn-cn-sandbox-ready", START)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ResourceReady"
    assert body["requestId"] == response.headers["x-acs-request-id"]
    assert {
        "cpu",
        "gpu",
        "memory",
        "gpuMemory",
        "cpuUsed",
        "chargeType",
        "expirationTime",
        "autoRenewal",
    } <= set(body)
    assert body["modelServiceList"][0]["apiKey"] in SECRET_VALUES


def test_hologres_waiting_target(sim: SimulatorHandle) -> None:
    body = calls.hologres(sim, "hgpostcn-cn-sandbox-waiting", START).json()
    assert body["status"] == "InstanceWaiting"
    assert body["modelServiceList"] == []


def test_hologres_unknown_instance_is_not_found(sim: SimulatorHandle) -> None:
    response = calls.hologres(sim, "hgpostcn-cn-nope", START)
    assert response.status_code == 404
    body = response.json()
    assert set(body) == {"RequestId", "HostId", "Code", "Message", "Recommend"}
    assert body["Code"] == "InvalidInstanceId.NotFound"
    assert sim.request_count("alibaba-hologres", "hgpostcn-cn-nope", "not-found") == 1


def test_hologres_wrong_action_header_is_rejected(sim: SimulatorHandle) -> None:
    path = "/api/v1/instances/hgpostcn-cn-sandbox-ready/getInstanceModel"
    host = urlsplit(sim.url).netloc
    headers = sdk.alibaba_headers(
        "GET", path, {}, host, b"", *calls.ALIBABA, action="GetInstance", version="2022-06-01", now=START
    )
    response = httpx.get(sim.url + path, headers=headers)
    assert (response.status_code, response.json()["Code"]) == (404, "InvalidAction.NotFound")


def test_guardrail_serves_the_seed_body(sim: SimulatorHandle) -> None:
    response = calls.guardrail(sim, 1001, 2, START)
    assert response.status_code == 200
    body = response.json()
    assert (body["Code"], body["Success"], body["ModelInstanceId"]) == ("00000", True, 1001)
    assert body["ModelToken"] in SECRET_VALUES
    assert body["RequestId"] == response.headers["x-acs-request-id"]


def test_guardrail_unknown_instance_is_http_200_with_success_false(sim: SimulatorHandle) -> None:
    response = calls.guardrail(sim, 1001, 0, START)
    assert response.status_code == 200
    body = response.json()
    assert body["Success"] is False
    assert body["Code"] != "00000"
    assert body["HttpStatusCode"] == 404


def test_guardrail_missing_parameter(sim: SimulatorHandle) -> None:
    host = urlsplit(sim.url).netloc
    query = {"ModelInstanceId": "1001"}
    headers = sdk.alibaba_headers(
        "POST",
        "/",
        query,
        host,
        b"",
        *calls.ALIBABA,
        action="GetModelInstanceInfo",
        version="2024-07-01",
        now=START,
    )
    response = httpx.post(f"{sim.url}/?ModelInstanceId=1001", headers=headers)
    assert (response.status_code, response.json()["Code"]) == (400, "MissingSceneType")
    assert sim.request_count(outcome="bad-request") == 1


def test_modelarts_serves_the_seed_body(sim: SimulatorHandle) -> None:
    response = calls.modelarts(sim, calls.PROJECT, calls.SERVICE_RUNNING, START)
    assert response.status_code == 200
    body = response.json()
    assert (body["service_id"], body["status"]) == (calls.SERVICE_RUNNING, "running")
    assert body["config"][0]["envs"]["MODEL_API_TOKEN"] in SECRET_VALUES
    assert response.headers["X-Request-Id"]


def test_modelarts_failed_target_has_error_msg(sim: SimulatorHandle) -> None:
    body = calls.modelarts(sim, calls.PROJECT, calls.SERVICE_FAILED, START).json()
    assert body["status"] == "failed"
    assert body["error_msg"]
    assert "access_address" not in body


def test_modelarts_unknown_service_is_not_found(sim: SimulatorHandle) -> None:
    response = calls.modelarts(sim, calls.PROJECT, "00000000-0000-0000-0000-000000000000", START)
    assert response.status_code == 404
    assert response.json() == {
        "error_code": "ModelArts.3502",
        "error_msg": "Service 00000000-0000-0000-0000-000000000000 does not exist.",
    }


def test_modelarts_bad_signature_is_apig_0301(sim: SimulatorHandle) -> None:
    response = calls.modelarts(
        sim, calls.PROJECT, calls.SERVICE_RUNNING, START, key=(calls.HUAWEI[0], "wrong")
    )
    assert response.status_code == 401
    body = response.json()
    assert body["error_code"] == "APIG.0301"
    assert body["request_id"] == response.headers["X-Request-Id"]


def test_iam_token_then_modelarts_with_token(sim: SimulatorHandle, clock: FakeClock) -> None:
    issued = calls.iam_token(sim)
    assert issued.status_code == 201
    token = issued.headers["X-Subject-Token"]
    assert issued.json()["token"]["expires_at"] == "2026-11-21T08:00:00.000000Z"
    assert calls.modelarts_with_token(sim, calls.PROJECT, calls.SERVICE_RUNNING, token).status_code == 200
    assert sim.request_count("huawei-iam", "operator", "ok") == 1
    clock.advance(timedelta(hours=24).total_seconds())
    expired = calls.modelarts_with_token(sim, calls.PROJECT, calls.SERVICE_RUNNING, token)
    assert (expired.status_code, expired.json()["error_code"]) == (401, "APIG.0307")


def test_iam_rejects_a_wrong_password(sim: SimulatorHandle) -> None:
    response = calls.iam_token(sim, password="wrong")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == 401
    assert "X-Subject-Token" not in response.headers


def test_iam_rejects_a_malformed_request(sim: SimulatorHandle) -> None:
    response = httpx.post(f"{sim.url}/v3/auth/tokens", json={"auth": {"identity": {"methods": ["token"]}}})
    assert response.status_code == 400


def test_unknown_token_is_rejected(sim: SimulatorHandle) -> None:
    response = calls.modelarts_with_token(sim, calls.PROJECT, calls.SERVICE_RUNNING, "MIIforged")
    assert (response.status_code, response.json()["error_code"]) == (401, "APIG.0301")


def test_huawei_locks_an_access_key_after_five_failures(sim: SimulatorHandle, clock: FakeClock) -> None:
    for _ in range(5):
        calls.modelarts(sim, calls.PROJECT, calls.SERVICE_RUNNING, START, key=(calls.HUAWEI[0], "wrong"))
    locked = calls.modelarts(sim, calls.PROJECT, calls.SERVICE_RUNNING, START)
    assert locked.status_code == 401
    assert "reach the limit" in locked.json()["error_msg"]
    clock.advance(5 * 60)
    assert calls.modelarts(sim, calls.PROJECT, calls.SERVICE_RUNNING, clock.now).status_code == 200


def test_qianfan_serves_the_seed_body(sim: SimulatorHandle) -> None:
    response = calls.qianfan(sim, "unit-sandbox-running", START)
    assert response.status_code == 200
    body = response.json()
    assert body["requestId"] == response.headers["x-bce-request-id"]
    unit = body["result"]["computeUnitInstance"]
    assert (unit["instanceId"], unit["status"]) == ("unit-sandbox-running", "Running")
    assert body["result"]["serviceInfoList"][0]["runStatus"] == "Serving"


def test_qianfan_reconfiguring_target(sim: SimulatorHandle) -> None:
    body = calls.qianfan(sim, "unit-sandbox-reconfiguring", START).json()
    assert body["result"]["computeUnitInstance"]["status"] == "Reconfiguring"
    assert body["result"]["serviceInfoList"][0]["scaleStatus"] == "ScalingOut"


def test_qianfan_unknown_unit_is_not_found(sim: SimulatorHandle) -> None:
    response = calls.qianfan(sim, "unit-nope", START)
    assert response.status_code == 404
    assert set(response.json()) == {"requestId", "code", "message"}


def test_qianfan_unknown_key_is_invalid_access_key(sim: SimulatorHandle) -> None:
    response = calls.qianfan(sim, "unit-sandbox-running", START, key=("bce-nobody", "x"))
    assert (response.status_code, response.json()["code"]) == (403, "InvalidAccessKeyId")
    assert sim.request_count("baidu-qianfan", outcome="auth-rejected") == 1


@pytest.mark.parametrize(
    ("body", "code"),
    [(b"{not json", "MalformedJSON"), (json.dumps({"id": "x"}).encode(), "InappropriateJSON")],
)
def test_qianfan_bad_request_bodies(sim: SimulatorHandle, body: bytes, code: str) -> None:
    host = urlsplit(sim.url).netloc
    query = {"Action": "DescribeComputeUnit"}
    headers = sdk.baidu_headers("POST", "/v2/computeunit", query, host, body, *calls.BAIDU, now=START)
    response = httpx.post(
        f"{sim.url}/v2/computeunit?Action=DescribeComputeUnit", headers=headers, content=body
    )
    assert (response.status_code, response.json()["code"]) == (400, code)


def test_unsigned_requests_are_rejected_by_every_api(sim: SimulatorHandle) -> None:
    assert httpx.get(f"{sim.url}/api/v1/instances/x/getInstanceModel").status_code == 400
    assert httpx.get(f"{sim.url}/v1/{calls.PROJECT}/services/{calls.SERVICE_RUNNING}").status_code == 401
    assert httpx.post(f"{sim.url}/v2/computeunit?Action=DescribeComputeUnit", json={}).status_code == 403
    assert sim.request_count(outcome="auth-rejected") == 3
    assert sim.request_count(outcome="ok") == 0
