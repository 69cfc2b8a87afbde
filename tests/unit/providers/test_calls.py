"""Each provider's one call, driven through an in-process transport.

What goes out: method, host, path, query and body as the seed documents describe them, with a
signature the provider's official SDK computes identically. What comes back: the provider's error
shapes, each parsed into one `ProviderError` whose class drives retries and condition reasons.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest

from cloudmodel_dev.simulator.bodies import guardrail, hologres, modelarts, qianfan
from cloudmodel_operator.api.observation import Observation, Phase
from cloudmodel_operator.providers import get_provider
from cloudmodel_operator.providers.base import Credentials, ErrorClass, ProviderError, Target
from cloudmodel_operator.providers.http import USER_AGENT, make_client
from tests.oracles import sdk

ALIBABA = Credentials({"accessKeyId": "LTAIunit", "accessKeySecret": "alibaba-unit-secret"})
HUAWEI = Credentials({"accessKey": "HWUNITAK", "secretKey": "huawei-unit-secret"})
BAIDU = Credentials({"accessKey": "bce-unit-ak", "secretKey": "baidu-unit-secret"})
PROJECT, SERVICE = "0c9d4a5e2b1f4c6d8e7f0a1b2c3d4e5f", "6f1c2b9e-3d4a-4b8c-9e7f-1a2b3c4d5e6f"

Handler = Callable[[httpx.Request], httpx.Response]


@dataclass(frozen=True)
class Case:
    provider: str
    target: Target
    credentials: Credentials
    body: dict[str, Any]


CASES = {
    "alibaba-hologres": Case(
        "alibaba-hologres",
        Target("alibaba-hologres", "cn-hangzhou", instance_id="hgpostcn-cn-unit"),
        ALIBABA,
        hologres.default_body("hgpostcn-cn-unit", "ResourceReady"),
    ),
    "alibaba-guardrail": Case(
        "alibaba-guardrail",
        Target("alibaba-guardrail", "cn-shanghai", model_instance_id="1001", scene_type=2),
        ALIBABA,
        guardrail.default_body("1001/2", "ok"),
    ),
    "huawei-modelarts": Case(
        "huawei-modelarts",
        Target("huawei-modelarts", "cn-north-4", project_id=PROJECT, service_id=SERVICE),
        HUAWEI,
        modelarts.default_body(f"{PROJECT}/{SERVICE}", "running"),
    ),
    "baidu-qianfan": Case(
        "baidu-qianfan",
        Target("baidu-qianfan", "bj", instance_id="unit-abc"),
        BAIDU,
        qianfan.default_body("unit-abc", "Running"),
    ),
}


async def observe(case: Case, handler: Handler) -> tuple[Observation, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    provider = get_provider(case.provider)
    async with httpx.AsyncClient(transport=httpx.MockTransport(record)) as client:
        observation = await provider.observe(
            client, provider.default_base_url(case.target.region), case.target, case.credentials
        )
    return observation, seen


async def failure(case: Case, handler: Handler) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        await observe(case, handler)
    return info.value


def reply(status: int, body: Any, headers: dict[str, str] | None = None) -> Handler:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return lambda request: httpx.Response(status, content=content, headers=headers)


# -- what goes out ----------------------------------------------------------------------------------


async def test_hologres_request_is_a_signed_roa_get() -> None:
    case = CASES["alibaba-hologres"]
    observation, [request] = await observe(case, reply(200, case.body))
    assert observation.phase is Phase.READY
    assert (request.method, request.url.host) == ("GET", "hologram.cn-hangzhou.aliyuncs.com")
    assert request.url.raw_path == b"/api/v1/instances/hgpostcn-cn-unit/getInstanceModel"
    assert request.headers["x-acs-action"] == "GetInstanceModel"
    assert request.headers["x-acs-version"] == "2022-06-01"
    assert_alibaba_signature(request, action="GetInstanceModel", version="2022-06-01")


async def test_guardrail_request_is_a_signed_rpc_post_with_query_parameters() -> None:
    case = CASES["alibaba-guardrail"]
    _, [request] = await observe(case, reply(200, case.body))
    assert (request.method, request.url.host, request.url.path) == ("POST", "rai.aliyuncs.com", "/")
    assert dict(request.url.params) == {"ModelInstanceId": "1001", "SceneType": "2"}
    assert request.content == b""
    assert_alibaba_signature(request, action="GetModelInstanceInfo", version="2024-07-01")


async def test_alibaba_sts_token_is_sent_and_signed() -> None:
    case = CASES["alibaba-hologres"]
    sts = Credentials({**ALIBABA.values, "securityToken": "sts-unit-token"})
    _, [request] = await observe(Case(case.provider, case.target, sts, case.body), reply(200, case.body))
    assert request.headers["x-acs-security-token"] == "sts-unit-token"
    assert "x-acs-security-token" in request.headers["authorization"]
    assert_alibaba_signature(request, action="GetInstanceModel", version="2022-06-01", token="sts-unit-token")


def assert_alibaba_signature(
    request: httpx.Request, *, action: str, version: str, token: str | None = None
) -> None:
    now = datetime.strptime(request.headers["x-acs-date"], "%Y-%m-%dT%H:%M:%SZ")
    expected = sdk.alibaba_headers(
        request.method, request.url.path, dict(request.url.params), request.url.host, request.content,
        *ALIBABA.values.values(), action=action, version=version, now=now,
        nonce=request.headers["x-acs-signature-nonce"], security_token=token,
    )  # fmt: skip
    assert request.headers["authorization"] == expected["Authorization"]


async def test_modelarts_request_is_a_signed_get_of_the_v1_service() -> None:
    case = CASES["huawei-modelarts"]
    _, [request] = await observe(case, reply(200, case.body))
    assert (request.method, request.url.host) == ("GET", "modelarts.cn-north-4.myhuaweicloud.com")
    assert request.url.path == f"/v1/{PROJECT}/services/{SERVICE}"
    now = datetime.strptime(request.headers["x-sdk-date"], "%Y%m%dT%H%M%SZ")
    expected, _ = sdk.huawei_headers(
        "GET", request.url.path, [], request.url.host, b"", "HWUNITAK", "huawei-unit-secret", now=now,
        extra={"Content-Type": "application/json"},
    )  # fmt: skip
    assert request.headers["authorization"] == expected["Authorization"]


async def test_modelarts_with_a_ready_iam_token_sends_it_unsigned() -> None:
    case = CASES["huawei-modelarts"]
    token = Credentials({"token": "iam-unit-token"})
    _, [request] = await observe(Case(case.provider, case.target, token, case.body), reply(200, case.body))
    assert request.headers["x-auth-token"] == "iam-unit-token"
    assert "authorization" not in request.headers


def test_modelarts_hosts_follow_the_sdk_region_table() -> None:
    provider = get_provider("huawei-modelarts")
    assert provider.default_base_url("cn-north-4") == "https://modelarts.cn-north-4.myhuaweicloud.com"
    assert provider.default_base_url("ap-southeast-1") == "https://modelarts.ap-southeast-1.myhuaweicloud.cn"


async def test_qianfan_request_is_a_signed_console_action() -> None:
    case = CASES["baidu-qianfan"]
    _, [request] = await observe(case, reply(200, case.body))
    assert (request.method, request.url.host, request.url.path) == (
        "POST",
        "qianfan.baidubce.com",
        "/v2/computeunit",
    )
    assert dict(request.url.params) == {"Action": "DescribeComputeUnit"}
    assert json.loads(request.content) == {"instanceId": "unit-abc"}
    now = datetime.strptime(request.headers["x-bce-date"], "%Y-%m-%dT%H:%M:%SZ")
    expected = sdk.baidu_headers(
        "POST", "/v2/computeunit", {"Action": "DescribeComputeUnit"}, request.url.host, request.content,
        "bce-unit-ak", "baidu-unit-secret", now=now,
    )  # fmt: skip
    assert request.headers["authorization"].rsplit("/", 1)[1] == expected["authorization"].rsplit("/", 1)[1]


@pytest.mark.parametrize("name", sorted(CASES))
async def test_user_agent_names_the_operator(name: str) -> None:
    case = CASES[name]
    provider = get_provider(name)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return reply(200, case.body)(request)

    async with make_client(transport=httpx.MockTransport(handler)) as client:
        await provider.observe(
            client, provider.default_base_url(case.target.region), case.target, case.credentials
        )
    assert seen[0].headers["user-agent"] == USER_AGENT
    assert USER_AGENT.startswith("cloudmodel-operator/")


# -- what comes back: error shapes ------------------------------------------------------------------

ALIBABA_ERRORS = [
    # (HTTP status, Code, class): codes from the OpenAPI error centre and the notes
    (404, "InvalidInstanceId.NotFound", ErrorClass.NOT_FOUND),
    (400, "SignatureDoesNotMatch", ErrorClass.AUTH),
    (404, "InvalidAccessKeyId.NotFound", ErrorClass.AUTH),  # an auth code, whatever its suffix says
    (400, "IncompleteSignature", ErrorClass.AUTH),
    (400, "InvalidTimeStamp.Expired", ErrorClass.AUTH),
    (403, "Forbidden.RAM", ErrorClass.AUTH),
    (400, "Throttling.User", ErrorClass.THROTTLED),
    (429, "Throttling.Api", ErrorClass.THROTTLED),
    (503, "ServiceUnavailable", ErrorClass.TRANSIENT),
    (500, "InternalError", ErrorClass.TRANSIENT),
    (400, "MissingParameter", ErrorClass.PERMANENT),
]


@pytest.mark.parametrize("name", ["alibaba-hologres", "alibaba-guardrail"])
@pytest.mark.parametrize(("status", "code", "expected"), ALIBABA_ERRORS)
async def test_alibaba_error_bodies_are_classified(
    name: str, status: int, code: str, expected: ErrorClass
) -> None:
    body = {
        "RequestId": "REQ-1",
        "HostId": "h",
        "Code": code,
        "Message": f"{code} happened",
        "Recommend": "r",
    }
    error = await failure(CASES[name], reply(status, body))
    assert (error.error_class, error.code, error.http_status, error.request_id) == (
        expected,
        code,
        status,
        "REQ-1",
    )
    assert f"{code} happened" in error.message


async def test_alibaba_retry_after_header_is_milliseconds() -> None:
    body = {"RequestId": "REQ-2", "Code": "Throttling.User", "Message": "slow down"}
    error = await failure(CASES["alibaba-hologres"], reply(400, body, {"x-acs-retry-after": "1500"}))
    assert (error.error_class, error.retry_after) == (ErrorClass.THROTTLED, 1.5)


async def test_alibaba_signature_echo_is_cut_short() -> None:
    message = "The request signature does not conform. server string to sign is:" + "x" * 5000
    error = await failure(
        CASES["alibaba-hologres"], reply(400, {"Code": "SignatureDoesNotMatch", "Message": message})
    )
    assert error.error_class is ErrorClass.AUTH
    assert len(error.message) <= 300


@pytest.mark.parametrize(
    ("success", "code", "expected"),
    [
        (False, "ModelInstanceNotExist", ErrorClass.NOT_FOUND),
        (True, "Throttling", ErrorClass.THROTTLED),
        (False, "SomethingElse", ErrorClass.PERMANENT),
    ],
)
async def test_guardrail_http_200_carrying_its_own_error_is_an_error(
    success: bool, code: str, expected: ErrorClass
) -> None:
    body = {"Code": code, "Success": success, "HttpStatusCode": 200, "Message": "nope", "RequestId": "REQ-3"}
    error = await failure(CASES["alibaba-guardrail"], reply(200, body))
    assert (error.error_class, error.code, error.request_id) == (expected, code, "REQ-3")


async def test_guardrail_success_false_without_a_code_is_an_error() -> None:
    body = {**CASES["alibaba-guardrail"].body, "Success": False, "Code": None}
    error = await failure(CASES["alibaba-guardrail"], reply(200, body))
    assert error.error_class is ErrorClass.PERMANENT


HUAWEI_ERRORS = [
    (404, {"error_code": "ModelArts.3502", "error_msg": "service not found"}, ErrorClass.NOT_FOUND),
    (401, {"error_code": "APIG.0301", "error_msg": "Incorrect IAM authentication information", "request_id": "R"}, ErrorClass.AUTH),
    (401, {"error_code": "APIG.0307", "error_msg": "The token must be updated."}, ErrorClass.AUTH),
    (403, {"error_code": "ModelArts.0101", "error_msg": "no permission"}, ErrorClass.AUTH),
    (429, {"error_code": "APIG.0308", "error_msg": "The request is throttled"}, ErrorClass.THROTTLED),
    (429, {"error_code": "APIGW.0308", "error_msg": "The request is throttled"}, ErrorClass.THROTTLED),
    (500, {"error_code": "ModelArts.0010", "error_msg": "internal error"}, ErrorClass.TRANSIENT),
    (400, {"error_code": "ModelArts.0104", "error_msg": "bad parameter"}, ErrorClass.PERMANENT),
    (403, {"error": {"code": "IAM.0002", "message": "token expired"}}, ErrorClass.AUTH),
]  # fmt: skip


@pytest.mark.parametrize(("status", "body", "expected"), HUAWEI_ERRORS)
async def test_huawei_error_bodies_are_classified(
    status: int, body: dict[str, Any], expected: ErrorClass
) -> None:
    error = await failure(CASES["huawei-modelarts"], reply(status, body, {"X-Request-Id": "hw-req"}))
    code = body.get("error_code") or body["error"]["code"]
    assert (error.error_class, error.code, error.http_status) == (expected, code, status)
    assert error.request_id == body.get("request_id", "hw-req")


async def test_huawei_auth_errors_warn_about_the_key_lockout() -> None:
    error = await failure(
        CASES["huawei-modelarts"], reply(401, {"error_code": "APIG.0301", "error_msg": "bad"})
    )
    assert not error.retryable
    assert "5 minutes" in error.message


async def test_huawei_throttling_honours_retry_after() -> None:
    error = await failure(
        CASES["huawei-modelarts"],
        reply(429, {"error_code": "APIG.0308", "error_msg": "x"}, {"Retry-After": "7"}),
    )
    assert (error.error_class, error.retry_after) == (ErrorClass.THROTTLED, 7.0)


BAIDU_ERRORS = [
    (404, {"requestId": "b-1", "code": "ResourceNotFound", "message": "no such unit"}, ErrorClass.NOT_FOUND),
    (400, {"requestId": "b-1", "code": "SignatureDoesNotMatch", "message": "bad signature"}, ErrorClass.AUTH),
    (403, {"requestId": "b-1", "code": "AccessDenied", "message": "denied"}, ErrorClass.AUTH),
    (401, {"requestId": "b-1", "code": "InvalidAccessKeyId", "message": "who"}, ErrorClass.AUTH),
    (400, {"requestId": "b-1", "code": "RequestExpired", "message": "clock"}, ErrorClass.AUTH),
    (429, {"requestId": "b-1", "code": "TooManyRequests", "message": "slow"}, ErrorClass.THROTTLED),
    (200, {"error_code": 18, "error_msg": "Open api qps request limit reached", "log_id": "b-1"}, ErrorClass.THROTTLED),
    (200, {"error_code": 336100, "error_msg": "try again later", "log_id": "b-1"}, ErrorClass.TRANSIENT),
    (500, {"requestId": "b-1", "code": "InternalError", "message": "oops"}, ErrorClass.TRANSIENT),
    (400, {"requestId": "b-1", "code": "InvalidParameter", "message": "bad"}, ErrorClass.PERMANENT),
]  # fmt: skip


@pytest.mark.parametrize(("status", "body", "expected"), BAIDU_ERRORS)
async def test_baidu_error_bodies_are_classified(
    status: int, body: dict[str, Any], expected: ErrorClass
) -> None:
    error = await failure(CASES["baidu-qianfan"], reply(status, body))
    code = str(body.get("code") or body.get("error_code"))
    assert (error.error_class, error.code, error.http_status, error.request_id) == (
        expected,
        code,
        status,
        "b-1",
    )


async def test_baidu_error_headers_stand_in_for_a_missing_body() -> None:
    headers = {"x-bce-error-code": "AccessDenied", "x-bce-error-message": "denied", "x-bce-request-id": "b-2"}
    error = await failure(CASES["baidu-qianfan"], reply(403, b"<html>denied</html>", headers))
    assert (error.error_class, error.code, error.message, error.request_id) == (
        ErrorClass.AUTH, "AccessDenied", "denied", "b-2",
    )  # fmt: skip


# -- shared transport failures, per provider --------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize(
    ("status", "content", "expected"),
    [
        (200, b'{"truncated": ', ErrorClass.INVALID_RESPONSE),
        (200, b"[1, 2]", ErrorClass.INVALID_RESPONSE),
        (502, b"<html>bad gateway</html>", ErrorClass.TRANSIENT),
        (429, b"", ErrorClass.THROTTLED),
        (404, b"", ErrorClass.NOT_FOUND),
        (403, b"", ErrorClass.AUTH),
    ],
)
async def test_bodies_that_are_not_the_provider_shape(
    name: str, status: int, content: bytes, expected: ErrorClass
) -> None:
    error = await failure(CASES[name], reply(status, content))
    assert (error.error_class, error.http_status) == (expected, status)


@pytest.mark.parametrize("name", sorted(CASES))
async def test_network_failures_are_transient(name: str) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    error = await failure(CASES[name], refuse)
    assert error.error_class is ErrorClass.TRANSIENT
    assert error.retryable


@pytest.mark.parametrize("name", sorted(CASES))
async def test_a_field_of_the_wrong_type_is_an_invalid_response_naming_it(name: str) -> None:
    case = CASES[name]
    body = json.loads(json.dumps(case.body))
    wrong: dict[str, tuple[list[str], Any]] = {
        "alibaba-hologres": (["modelServiceList"], "not-a-list"),
        "alibaba-guardrail": (["HarmfulCategoryConfigInfoList"], {"not": "a list"}),
        "huawei-modelarts": (["config"], "not-a-list"),
        "baidu-qianfan": (["result", "computeUnitInstance"], ["not", "an object"]),
    }
    path, value = wrong[name]
    node = body
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    error = await failure(case, reply(200, body))
    assert error.error_class is ErrorClass.INVALID_RESPONSE
    assert path[-1] in error.message


@pytest.mark.parametrize("name", sorted(CASES))
async def test_a_redirect_is_never_followed_with_the_credentials(name: str) -> None:
    # The factory's client (the one the operator uses) answers a redirect with an error: the
    # signed request, or a token, must never be replayed to the host a provider's answer names.
    case, seen = CASES[name], []

    def redirect(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(302, headers={"Location": "https://collector.example.com/steal"})

    provider = get_provider(case.provider)
    async with make_client(transport=httpx.MockTransport(redirect)) as client:
        with pytest.raises(ProviderError):
            await provider.observe(client, provider.default_base_url(case.target.region), case.target,
                                   case.credentials)  # fmt: skip
    assert [r.url.host for r in seen] == [httpx.URL(provider.default_base_url(case.target.region)).host]
