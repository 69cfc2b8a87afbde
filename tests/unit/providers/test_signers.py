"""Our three request signers against the providers' published examples and official SDKs.

The SDKs (test-only dependencies) are the oracles: for the same request, time and nonce, our
Authorization header must be the one the SDK computes.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from urllib.parse import quote

import pytest

from cloudmodel_operator.providers.alibaba import signer as alibaba
from cloudmodel_operator.providers.baidu import signer as baidu
from cloudmodel_operator.providers.huawei import signer as huawei
from cloudmodel_operator.providers.signing import RequestParts
from tests.oracles import sdk, strategies

NOW = datetime(2026, 11, 20, 8, 0, 0, tzinfo=UTC)
METHODS = ["GET", "POST", "PUT", "DELETE"]
ROUNDS = 300


def _wire_path(rng: random.Random, *, slash_is_separator: bool = False) -> str:
    safe = "/" if slash_is_separator else ""
    return "/" + "/".join(quote(segment, safe=safe) for segment in strategies.segments(rng))


def _unsigned(headers: dict[str, str], *drop: str) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items() if k.lower() not in {"authorization", *drop}}


# -- Alibaba Cloud ACS3-HMAC-SHA256 ---------------------------------------------------------------


def test_alibaba_reproduces_the_published_example() -> None:
    # The V3 signature document's RunInstances example.
    parts = RequestParts(
        method="POST",
        path="/",
        query=(
            ("ImageId", "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"),
            ("RegionId", "cn-shanghai"),
        ),
        headers={"host": "ecs.cn-shanghai.aliyuncs.com"},
    )
    added = alibaba.sign(
        parts,
        "YourAccessKeyId",
        "YourAccessKeySecret",
        action="RunInstances",
        version="2014-05-26",
        now=datetime(2023, 10, 26, 9, 1, 1, tzinfo=UTC),
        nonce="d410180a5abf7fe235dd9b74aca91fc0",
    )
    assert added["authorization"] == (
        "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,"
        "SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,"
        "Signature=e521358f7776c97df52e6b2891a8bc73026794a071b50c3323388c4e0df64804"
    )


@pytest.mark.parametrize("security_token", [None, "sts-token/with+reserved="])
def test_alibaba_matches_the_sdk_over_generated_requests(security_token: str | None) -> None:
    rng = random.Random(3 if security_token else 2)
    host = "hologram.cn-hangzhou.aliyuncs.com"
    for _ in range(ROUNDS):
        method = rng.choice(METHODS)
        path = _wire_path(rng)
        query = strategies.query(rng)  # keys are plain: the SDK encodes values only, we both
        body = strategies.body(rng, method)
        extra = {"content-type": "application/json"} if body else {}
        nonce = f"{rng.getrandbits(128):032x}"
        expected = sdk.alibaba_headers(
            method, path, query, host, body, "LTAIak", "alibaba-secret", action="GetInstanceModel",
            version="2022-06-01", now=NOW, nonce=nonce, security_token=security_token, extra=extra,
        )  # fmt: skip
        parts = RequestParts(method, path, tuple(query.items()), {"host": host, **extra}, body)
        ours = alibaba.sign(
            parts, "LTAIak", "alibaba-secret", security_token,
            action="GetInstanceModel", version="2022-06-01", now=NOW, nonce=nonce,
        )  # fmt: skip
        assert ours["authorization"] == expected["Authorization"], (method, path, query)
        assert {k: v for k, v in ours.items() if k != "authorization"} == _unsigned(
            expected, "host", "content-type"
        )


# -- Huawei Cloud SDK-HMAC-SHA256 -----------------------------------------------------------------


def test_huawei_reproduces_the_published_example() -> None:
    # The API signing guide's VPC-list example.
    parts = RequestParts(
        method="GET",
        path="/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs",
        query=(("marker", "13551d6b-755d-4757-b956-536f674975c0"), ("limit", "2")),
        headers={"content-type": "application/json", "host": "service.region.example.com"},
    )
    added = huawei.sign(
        parts,
        "QTWAOYTTINDUT2QVKYUC",
        "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc",
        now=datetime(2019, 11, 15, 3, 36, 55, tzinfo=UTC),
    )
    assert added == {
        "x-sdk-date": "20191115T033655Z",
        "authorization": "SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=content-type;host;x-sdk-date, "
        "Signature=7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe",
    }


def test_huawei_matches_the_sdk_over_generated_requests() -> None:
    rng = random.Random(4)
    host = "modelarts.cn-north-4.myhuaweicloud.com"
    for _ in range(ROUNDS):
        method = rng.choice(METHODS)
        path = _wire_path(rng)
        query = list(strategies.query(rng).items())
        body = strategies.body(rng, method)
        expected, uri = sdk.huawei_headers(method, path, query, host, body, "HWAK", "huawei-secret", now=NOW)
        # Sign what the SDK put on the wire, the way our client would have built it.
        parts = RequestParts.from_raw(method, uri, _unsigned(expected, "x-sdk-date"), body)
        ours = huawei.sign(parts, "HWAK", "huawei-secret", now=NOW)
        assert ours["authorization"] == expected["Authorization"], (method, uri)
        assert ours["x-sdk-date"] == expected["X-Sdk-Date"]


def test_huawei_signs_the_security_token_of_temporary_keys() -> None:
    parts = RequestParts("GET", "/v1/p/services/s", (), {"host": "modelarts.cn-north-4.myhuaweicloud.com"})
    expected, _ = sdk.huawei_headers(
        "GET", "/v1/p/services/s", [], "modelarts.cn-north-4.myhuaweicloud.com", b"", "HWTEMP", "temp-secret",
        now=NOW, extra={"X-Security-Token": "temporary-token"},
    )  # fmt: skip
    ours = huawei.sign(parts, "HWTEMP", "temp-secret", "temporary-token", now=NOW)
    assert "x-security-token" in ours["authorization"]
    assert ours["authorization"] == expected["Authorization"]


# -- Baidu AI Cloud bce-auth-v1 -------------------------------------------------------------------


def test_baidu_reproduces_the_published_example() -> None:
    # The authentication guide's worked example (BOS UploadPart).
    parts = RequestParts(
        method="PUT",
        path="/v1/test/myfolder/readme.txt",
        query=(("partNumber", "9"), ("uploadId", "a44cc9bab11cbd156984767aad637851")),
        headers={
            "host": "bj.bcebos.com",
            "content-type": "text/plain",
            "content-length": "8",
            "content-md5": "NFzcPqhviddjRNnSOGo4rw==",
        },
    )
    added = baidu.sign(parts, "a" * 32, "b" * 32, now=datetime(2015, 4, 27, 8, 23, 49, tzinfo=UTC))
    assert added["authorization"] == (
        "bce-auth-v1/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/2015-04-27T08:23:49Z/1800/"
        "content-length;content-md5;content-type;host;x-bce-date/"
        "d74a04362e6a848f5b39b15421cb449427f419c95a480fd6b8cf9fc783e2999e"
    )


def test_baidu_matches_the_sdk_over_generated_requests() -> None:
    rng = random.Random(5)
    host = "qianfan.baidubce.com"
    for _ in range(ROUNDS):
        method = rng.choice(METHODS)
        # bce-auth-v1 canonicalises the decoded path with '/' kept, so '/' is always a separator.
        path = _wire_path(rng, slash_is_separator=True)
        query = strategies.query(rng)
        body = strategies.body(rng, method)
        expected = sdk.baidu_headers(method, path, query, host, body, "bce-ak", "baidu-secret", now=NOW)
        parts = RequestParts(method, path, tuple(query.items()), _unsigned(expected, "x-bce-date"), body)
        ours = baidu.sign(parts, "bce-ak", "baidu-secret", now=NOW)
        # The SDK leaves the signed-header list empty (server default set); we name ours.
        prefix, _, their_signature = expected["authorization"].rpartition("/")
        assert prefix.endswith("/")
        ours_prefix, names, our_signature = ours["authorization"].rsplit("/", 2)
        assert our_signature == their_signature, (method, path, query)
        assert ours_prefix == prefix.removesuffix("/")
        assert set(names.split(";")) == {"content-length", "content-type", "host", "x-bce-date"}


def test_baidu_names_the_same_headers_the_sdk_signs_when_asked_to_list_them() -> None:
    headers = {"host": "qianfan.baidubce.com", "content-type": "application/json", "content-length": "2"}
    expected = sdk.baidu_headers(
        "POST", "/v2/computeunit", {"Action": "DescribeComputeUnit"}, headers["host"], b"{}", "bce-ak", "baidu-secret",
        now=NOW, headers_to_sign=["host", "content-type", "content-length", "x-bce-date"],
    )  # fmt: skip
    parts = RequestParts("POST", "/v2/computeunit", (("Action", "DescribeComputeUnit"),), headers, b"{}")
    ours = baidu.sign(parts, "bce-ak", "baidu-secret", now=NOW, expiration_seconds=1800)
    their_prefix, their_names, their_signature = expected["authorization"].rsplit("/", 2)
    our_prefix, our_names, our_signature = ours["authorization"].rsplit("/", 2)
    assert (our_prefix, our_signature) == (their_prefix, their_signature)
    assert set(our_names.split(";")) == set(their_names.split(";"))
