"""ACS3-HMAC-SHA256 verifier against requests signed by alibabacloud_tea_openapi."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from cloudmodel_dev.simulator.verifiers import AuthRejected, KeyPair, alibaba
from cloudmodel_operator.providers.signing import RequestParts
from tests.oracles import sdk, strategies

NOW = datetime(2026, 11, 20, 8, 0, 0, tzinfo=UTC)
AK, SECRET = "LTAIsandbox", "sandbox-alibaba-secret"
KEYS = {AK: KeyPair(SECRET), "STSsandbox": KeyPair("sts-secret", security_token="sts-token-value")}
HOST = "hologram.cn-hangzhou.aliyuncs.com"


def _parts(
    method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
) -> RequestParts:
    raw = path + (f"?{sdk.encode_query(list(query.items()))}" if query else "")
    return RequestParts.from_raw(method, raw, headers, body)


def _signed(
    *,
    method: str = "GET",
    path: str = "/api/v1/instances/hgpostcn-cn-x/getInstanceModel",
    query: dict[str, str] | None = None,
    body: bytes = b"",
    key: tuple[str, str] = (AK, SECRET),
    now: datetime = NOW,
    token: str | None = None,
) -> tuple[dict[str, str], dict[str, str]]:
    query = query or {}
    headers = sdk.alibaba_headers(
        method, path, query, HOST, body, *key, action="GetInstanceModel", version="2022-06-01", now=now,
        security_token=token,
    )  # fmt: skip
    return headers, query


def _reject(parts: RequestParts, now: datetime = NOW) -> AuthRejected:
    with pytest.raises(AuthRejected) as info:
        alibaba.verify(parts, KEYS, now)
    return info.value


def test_sdk_signed_requests_pass_oracle_loop() -> None:
    rng = random.Random(20261120)
    for _ in range(300):
        method = rng.choice(["GET", "POST", "PUT", "DELETE"])
        path = "/" + "/".join(quote(segment, safe="") for segment in strategies.segments(rng))
        query = strategies.query(rng)
        body = strategies.body(rng, method)
        extra = {"content-type": "application/json"} if body else {}
        headers = sdk.alibaba_headers(
            method, path, query, HOST, body, AK, SECRET, action="Act", version="2024-07-01", now=NOW,
            nonce=f"{rng.getrandbits(64):016x}", extra=extra,
        )  # fmt: skip
        assert alibaba.verify(_parts(method, path, query, headers, body), KEYS, NOW) == AK


def test_published_vector_verifies() -> None:
    headers = {
        "host": "ecs.cn-shanghai.aliyuncs.com",
        "x-acs-action": "RunInstances",
        "x-acs-version": "2014-05-26",
        "x-acs-date": "2023-10-26T09:01:01Z",
        "x-acs-signature-nonce": "d410180a5abf7fe235dd9b74aca91fc0",
        "x-acs-content-sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "authorization": "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;"
        "x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,"
        "Signature=e521358f7776c97df52e6b2891a8bc73026794a071b50c3323388c4e0df64804",
    }
    raw = "/?ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai"
    parts = RequestParts.from_raw("POST", raw, headers, b"")
    now = datetime(2023, 10, 26, 9, 1, 1, tzinfo=UTC)
    assert (
        alibaba.verify(parts, {"YourAccessKeyId": KeyPair("YourAccessKeySecret")}, now) == "YourAccessKeyId"
    )


def test_tampered_path_fails() -> None:
    headers, query = _signed()
    rejected = _reject(_parts("GET", "/api/v1/instances/hgpostcn-cn-y/getInstanceModel", query, headers, b""))
    assert (rejected.status, rejected.code) == (400, "SignatureDoesNotMatch")


def test_tampered_query_fails() -> None:
    headers, _ = _signed(method="POST", path="/", query={"ModelInstanceId": "1001", "SceneType": "2"})
    rejected = _reject(_parts("POST", "/", {"ModelInstanceId": "1002", "SceneType": "2"}, headers, b""))
    assert rejected.code == "SignatureDoesNotMatch"


def test_tampered_body_fails() -> None:
    headers, query = _signed(method="POST", path="/", body=b'{"a": 1}')
    rejected = _reject(_parts("POST", "/", query, headers, b'{"a": 2}'))
    assert rejected.code == "SignatureDoesNotMatch"


def test_tampered_signed_header_fails() -> None:
    headers, query = _signed()
    headers["x-acs-action"] = "DeleteInstance"
    assert _reject(
        _parts("GET", "/api/v1/instances/hgpostcn-cn-x/getInstanceModel", query, headers, b"")
    ).code == ("SignatureDoesNotMatch")


def test_wrong_secret_fails() -> None:
    headers, query = _signed(key=(AK, "not-the-secret"))
    rejected = _reject(_parts("GET", "/api/v1/instances/hgpostcn-cn-x/getInstanceModel", query, headers, b""))
    assert (rejected.status, rejected.code) == (400, "SignatureDoesNotMatch")


def test_unknown_access_key_is_404() -> None:
    headers, query = _signed(key=("LTAInobody", SECRET))
    rejected = _reject(_parts("GET", "/api/v1/instances/hgpostcn-cn-x/getInstanceModel", query, headers, b""))
    assert (rejected.status, rejected.code) == (404, "InvalidAccessKeyId.NotFound")


@pytest.mark.parametrize("offset", [timedelta(minutes=16), timedelta(minutes=-16)])
def test_stale_date_fails(offset: timedelta) -> None:
    headers, query = _signed(now=NOW + offset)
    rejected = _reject(_parts("GET", "/api/v1/instances/hgpostcn-cn-x/getInstanceModel", query, headers, b""))
    assert (rejected.status, rejected.code) == (400, "InvalidTimeStamp.Expired")


def test_date_within_15_minutes_passes() -> None:
    headers, query = _signed(now=NOW - timedelta(minutes=14))
    assert alibaba.verify(
        _parts("GET", "/api/v1/instances/hgpostcn-cn-x/getInstanceModel", query, headers, b""), KEYS, NOW
    )


def test_missing_authorization_fails() -> None:
    headers, query = _signed()
    del headers["Authorization"]
    rejected = _reject(_parts("GET", "/api/v1/instances/hgpostcn-cn-x/getInstanceModel", query, headers, b""))
    assert (rejected.status, rejected.code) == (400, "IncompleteSignature")


def test_unsigned_acs_header_fails() -> None:
    headers, query = _signed()
    headers["x-acs-extra"] = "smuggled"
    rejected = _reject(_parts("GET", "/api/v1/instances/hgpostcn-cn-x/getInstanceModel", query, headers, b""))
    assert rejected.code == "IncompleteSignature"
    assert "x-acs-extra" in rejected.message


@pytest.mark.parametrize(
    "value", ["HMAC-SHA1 x", "ACS3-HMAC-SHA256 Credential=LTAIsandbox", "ACS3-HMAC-SHA256"]
)
def test_malformed_authorization_fails(value: str) -> None:
    headers, query = _signed()
    headers["Authorization"] = value
    assert _reject(
        _parts("GET", "/api/v1/instances/hgpostcn-cn-x/getInstanceModel", query, headers, b"")
    ).code == ("IncompleteSignature")


def test_security_token_is_required_and_checked() -> None:
    path = "/api/v1/instances/hgpostcn-cn-x/getInstanceModel"
    good, query = _signed(key=("STSsandbox", "sts-secret"), token="sts-token-value")
    assert alibaba.verify(_parts("GET", path, query, good, b""), KEYS, NOW) == "STSsandbox"
    missing, _ = _signed(key=("STSsandbox", "sts-secret"))
    assert (
        _reject(_parts("GET", path, query, missing, b"")).code == "InvalidSecurityToken.MismatchWithAccessKey"
    )
    wrong, _ = _signed(key=("STSsandbox", "sts-secret"), token="another-token")
    assert (
        _reject(_parts("GET", path, query, wrong, b"")).code == "InvalidSecurityToken.MismatchWithAccessKey"
    )
