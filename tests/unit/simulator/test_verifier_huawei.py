"""SDK-HMAC-SHA256 and IAM-token verification against huaweicloudsdkcore's Signer."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from cloudmodel_dev.simulator.verifiers import AuthRejected, KeyPair, huawei
from cloudmodel_dev.simulator.verifiers.huawei import IssuedToken
from cloudmodel_operator.providers.signing import RequestParts
from tests.oracles import sdk, strategies

NOW = datetime(2026, 11, 20, 8, 0, 0, tzinfo=UTC)
AK, SK = "HWSANDBOXAK", "sandbox-huawei-secret"
KEYS = {AK: KeyPair(SK), "HWTEMPAK": KeyPair("temp-secret", security_token="temp-token")}
HOST = "modelarts.cn-north-4.myhuaweicloud.com"
PATH = "/v1/0c9d4a5e2b1f4c6d8e7f0a1b2c3d4e5f/services/6f1c2b9e-3d4a-4b8c-9e7f-1a2b3c4d5e6f"


def _signed(
    *,
    method: str = "GET",
    path: str = PATH,
    query: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    key: tuple[str, str] = (AK, SK),
    now: datetime = NOW,
    extra: dict[str, str] | None = None,
) -> tuple[dict[str, str], str]:
    return sdk.huawei_headers(method, path, query or [], HOST, body, *key, now=now, extra=extra)


def _reject(parts: RequestParts, now: datetime = NOW) -> AuthRejected:
    with pytest.raises(AuthRejected) as info:
        huawei.verify_signature(parts, KEYS, now)
    return info.value


def test_sdk_signed_requests_pass_oracle_loop() -> None:
    rng = random.Random(4242)
    for _ in range(300):
        method = rng.choice(["GET", "POST", "PUT", "DELETE"])
        path = "/" + "/".join(quote(segment, safe="") for segment in strategies.segments(rng))
        query = list(strategies.query(rng).items())
        body = strategies.body(rng, method)
        headers, uri = _signed(method=method, path=path, query=query, body=body)
        assert huawei.verify_signature(RequestParts.from_raw(method, uri, headers, body), KEYS, NOW) == AK


def test_published_vector_verifies() -> None:
    headers = {
        "content-type": "application/json",
        "host": "service.region.example.com",
        "x-sdk-date": "20191115T033655Z",
        "authorization": "SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=content-type;host;x-sdk-date, "
        "Signature=7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe",
    }
    raw = "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs?limit=2&marker=13551d6b-755d-4757-b956-536f674975c0"
    parts = RequestParts.from_raw("GET", raw, headers, b"")
    keys = {"QTWAOYTTINDUT2QVKYUC": KeyPair("MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc")}
    assert huawei.verify_signature(parts, keys, datetime(2019, 11, 15, 3, 36, 55, tzinfo=UTC))


def test_tampered_path_fails() -> None:
    headers, uri = _signed()
    rejected = _reject(RequestParts.from_raw("GET", uri.replace("6f1c", "7f1c"), headers, b""))
    assert (rejected.status, rejected.code) == (401, "APIG.0301")
    assert "verify aksk signature fail" in rejected.message


def test_tampered_query_fails() -> None:
    headers, uri = _signed(query=[("limit", "2")])
    assert (
        _reject(RequestParts.from_raw("GET", uri.replace("limit=2", "limit=3"), headers, b"")).code
        == "APIG.0301"
    )


def test_tampered_body_fails() -> None:
    headers, uri = _signed(method="POST", body=b'{"a": 1}')
    assert _reject(RequestParts.from_raw("POST", uri, headers, b'{"a": 2}')).code == "APIG.0301"


def test_tampered_signed_header_fails() -> None:
    headers, uri = _signed(extra={"X-Project-Id": "abc"})
    headers["X-Project-Id"] = "def"
    assert _reject(RequestParts.from_raw("GET", uri, headers, b"")).code == "APIG.0301"


def test_wrong_secret_fails() -> None:
    headers, uri = _signed(key=(AK, "not-the-secret"))
    assert _reject(RequestParts.from_raw("GET", uri, headers, b"")).message.endswith(
        "verify aksk signature fail"
    )


def test_unknown_access_key_fails() -> None:
    headers, uri = _signed(key=("HWNOBODY", SK))
    rejected = _reject(RequestParts.from_raw("GET", uri, headers, b""))
    assert (rejected.status, rejected.code) == (401, "APIG.0301")
    assert "HWNOBODY not exist" in rejected.message


@pytest.mark.parametrize("offset", [timedelta(minutes=16), timedelta(minutes=-16)])
def test_stale_date_fails(offset: timedelta) -> None:
    headers, uri = _signed(now=NOW + offset)
    rejected = _reject(RequestParts.from_raw("GET", uri, headers, b""))
    assert rejected.code == "APIG.0301"
    assert "expired" in rejected.message


def test_missing_authorization_fails() -> None:
    headers, uri = _signed()
    del headers["Authorization"]
    assert _reject(RequestParts.from_raw("GET", uri, headers, b"")).code == "APIG.0301"


def test_temporary_credentials_need_their_security_token() -> None:
    good, uri = _signed(key=("HWTEMPAK", "temp-secret"), extra={"X-Security-Token": "temp-token"})
    assert huawei.verify_signature(RequestParts.from_raw("GET", uri, good, b""), KEYS, NOW) == "HWTEMPAK"
    bad, uri = _signed(key=("HWTEMPAK", "temp-secret"))
    assert "security token" in _reject(RequestParts.from_raw("GET", uri, bad, b"")).message


def test_tokens_known_unknown_and_expired() -> None:
    tokens = {
        "tok": IssuedToken(username="operator", project="p", expires_at=NOW + timedelta(hours=1), value="tok")
    }
    assert huawei.verify_token("tok", tokens, NOW).username == "operator"
    with pytest.raises(AuthRejected) as unknown:
        huawei.verify_token("other", tokens, NOW)
    assert (unknown.value.status, unknown.value.code) == (401, "APIG.0301")
    with pytest.raises(AuthRejected) as expired:
        huawei.verify_token("tok", tokens, NOW + timedelta(hours=1))
    assert (expired.value.status, expired.value.code) == (401, "APIG.0307")
