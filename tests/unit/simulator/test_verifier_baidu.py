"""bce-auth-v1 verification against bce-python-sdk's bce_v1_signer."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from cloudmodel_dev.simulator.verifiers import AuthRejected, KeyPair, baidu
from cloudmodel_operator.providers.signing import RequestParts
from tests.oracles import sdk, strategies

NOW = datetime(2026, 11, 20, 8, 0, 0, tzinfo=UTC)
AK, SK = "bce-sandbox-ak", "sandbox-baidu-secret"
KEYS = {AK: KeyPair(SK)}
HOST = "qianfan.baidubce.com"
PATH = "/v2/computeunit"
QUERY = {"Action": "DescribeComputeUnit"}
BODY = b'{"instanceId": "unit-sandbox-running"}'


def _raw(path: str, query: dict[str, str]) -> str:
    return path + (f"?{sdk.encode_query(list(query.items()))}" if query else "")


def _signed(
    *,
    path: str = PATH,
    query: dict[str, str] | None = None,
    body: bytes = BODY,
    key: tuple[str, str] = (AK, SK),
    now: datetime = NOW,
    expiration: int = 300,
    headers_to_sign: list[str] | None = None,
) -> dict[str, str]:
    query = QUERY if query is None else query
    return sdk.baidu_headers(
        "POST", path, query, HOST, body, *key, now=now, expiration=expiration, headers_to_sign=headers_to_sign
    )


def _reject(parts: RequestParts, now: datetime = NOW) -> AuthRejected:
    with pytest.raises(AuthRejected) as info:
        baidu.verify(parts, KEYS, now)
    return info.value


@pytest.mark.parametrize("explicit", [False, True])
def test_sdk_signed_requests_pass_oracle_loop(explicit: bool) -> None:
    rng = random.Random(977 + explicit)
    for _ in range(200):
        method = rng.choice(["GET", "POST", "PUT", "DELETE"])
        # A '/' inside a segment stays a separator: bce-auth-v1 canonicalises the decoded path
        # with slashes unencoded, so a %2F on the wire could never verify (the SDK never sends one).
        path = "/" + "/".join(quote(segment, safe="/") for segment in strategies.segments(rng))
        query = strategies.query(rng)
        body = strategies.body(rng, method)
        to_sign = (
            sorted(rng.sample(["host", "content-type", "x-bce-date"], rng.randint(1, 3)))
            if explicit
            else None
        )
        if to_sign is not None and "x-bce-date" not in to_sign:
            to_sign.append("x-bce-date")  # the SDK always canonicalises every x-bce-* header
        headers = sdk.baidu_headers(method, path, query, HOST, body, AK, SK, now=NOW, headers_to_sign=to_sign)
        assert baidu.verify(RequestParts.from_raw(method, _raw(path, query), headers, body), KEYS, NOW) == AK


def test_published_vector_verifies() -> None:
    headers = {
        "host": "bj.bcebos.com",
        "content-length": "8",
        "content-md5": "NFzcPqhviddjRNnSOGo4rw==",
        "content-type": "text/plain",
        "x-bce-date": "2015-04-27T08:23:49Z",
        "authorization": "bce-auth-v1/" + "a" * 32 + "/2015-04-27T08:23:49Z/1800/"
        "content-length;content-md5;content-type;host;x-bce-date/"
        "d74a04362e6a848f5b39b15421cb449427f419c95a480fd6b8cf9fc783e2999e",
    }
    raw = "/v1/test/myfolder/readme.txt?partNumber=9&uploadId=a44cc9bab11cbd156984767aad637851"
    parts = RequestParts.from_raw("PUT", raw, headers, b"Example\n")
    now = datetime(2015, 4, 27, 8, 30, tzinfo=UTC)
    assert baidu.verify(parts, {"a" * 32: KeyPair("b" * 32)}, now) == "a" * 32


def test_tampered_path_fails() -> None:
    headers = _signed()
    rejected = _reject(RequestParts.from_raw("POST", _raw("/v2/charge", QUERY), headers, BODY))
    assert (rejected.status, rejected.code) == (400, "SignatureDoesNotMatch")


def test_tampered_query_fails() -> None:
    headers = _signed()
    parts = RequestParts.from_raw("POST", _raw(PATH, {"Action": "DeleteComputeUnit"}), headers, BODY)
    assert _reject(parts).code == "SignatureDoesNotMatch"


def test_tampered_signed_header_fails() -> None:
    headers = _signed()
    headers["content-length"] = "999"
    assert (
        _reject(RequestParts.from_raw("POST", _raw(PATH, QUERY), headers, BODY)).code
        == "SignatureDoesNotMatch"
    )


def test_body_is_covered_through_content_length_only() -> None:
    # bce-auth-v1 signs no payload hash: a same-length body change passes, a longer one does not.
    headers = _signed()
    same_length = BODY.replace(b"running", b"stopped")
    assert baidu.verify(RequestParts.from_raw("POST", _raw(PATH, QUERY), headers, same_length), KEYS, NOW)
    headers["content-length"] = str(len(BODY) + 1)
    assert _reject(RequestParts.from_raw("POST", _raw(PATH, QUERY), headers, BODY + b" ")).code == (
        "SignatureDoesNotMatch"
    )


def test_wrong_secret_fails() -> None:
    headers = _signed(key=(AK, "not-the-secret"))
    assert (
        _reject(RequestParts.from_raw("POST", _raw(PATH, QUERY), headers, BODY)).code
        == "SignatureDoesNotMatch"
    )


def test_unknown_access_key_is_403() -> None:
    headers = _signed(key=("bce-nobody", SK))
    rejected = _reject(RequestParts.from_raw("POST", _raw(PATH, QUERY), headers, BODY))
    assert (rejected.status, rejected.code) == (403, "InvalidAccessKeyId")


def test_expired_signature_fails() -> None:
    headers = _signed(expiration=300)
    parts = RequestParts.from_raw("POST", _raw(PATH, QUERY), headers, BODY)
    assert baidu.verify(parts, KEYS, NOW + timedelta(seconds=300))
    rejected = _reject(parts, NOW + timedelta(seconds=301))
    assert (rejected.status, rejected.code) == (400, "RequestExpired")


def test_timestamp_far_in_the_future_fails() -> None:
    headers = _signed(now=NOW + timedelta(minutes=16))
    assert _reject(RequestParts.from_raw("POST", _raw(PATH, QUERY), headers, BODY)).code == "RequestExpired"


def test_missing_authorization_is_access_denied() -> None:
    headers = _signed()
    del headers["authorization"]
    rejected = _reject(RequestParts.from_raw("POST", _raw(PATH, QUERY), headers, BODY))
    assert (rejected.status, rejected.code) == (403, "AccessDenied")


@pytest.mark.parametrize("value", ["bce-auth-v2/a/b/c/d/e", "bce-auth-v1/ak/notadate/1800//sig", "garbage"])
def test_malformed_authorization_fails(value: str) -> None:
    headers = _signed()
    headers["authorization"] = value
    assert (
        _reject(RequestParts.from_raw("POST", _raw(PATH, QUERY), headers, BODY)).code
        == "InvalidHTTPAuthHeader"
    )
