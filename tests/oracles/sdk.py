"""Request signing with the providers' official SDKs: test oracles for our signers and the simulator's verifiers."""

from __future__ import annotations

import hashlib
from datetime import datetime
from types import SimpleNamespace
from urllib.parse import quote

from alibabacloud_tea_openapi.utils import Utils as AlibabaUtils  # type: ignore[import-untyped]
from baidubce.auth import bce_v1_signer  # type: ignore[import-untyped]
from baidubce.auth.bce_credentials import BceCredentials  # type: ignore[import-untyped]
from huaweicloudsdkcore.auth.credentials import BasicCredentials  # type: ignore[import-untyped]
from huaweicloudsdkcore.sdk_request import SdkRequest  # type: ignore[import-untyped]
from huaweicloudsdkcore.signer.signer import Signer  # type: ignore[import-untyped]


def encode_query(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)


def alibaba_headers(
    method: str,
    path: str,
    query: dict[str, str],
    host: str,
    body: bytes,
    access_key: str,
    secret: str,
    *,
    action: str,
    version: str,
    now: datetime,
    nonce: str = "d410180a5abf7fe235dd9b74aca91fc0",
    security_token: str | None = None,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """Headers (Authorization included) as alibabacloud_tea_openapi would sign them."""
    payload = hashlib.sha256(body).hexdigest()
    headers = {
        "host": host,
        "x-acs-action": action,
        "x-acs-version": version,
        "x-acs-date": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "x-acs-signature-nonce": nonce,
        "x-acs-content-sha256": payload,
        **(extra or {}),
    }
    if security_token is not None:
        headers["x-acs-security-token"] = security_token
    request = SimpleNamespace(method=method, pathname=path, query=query, headers=headers)
    headers["Authorization"] = AlibabaUtils.get_authorization(
        request, "ACS3-HMAC-SHA256", payload, access_key, secret
    )
    return headers


def huawei_headers(
    method: str,
    path: str,
    query: list[tuple[str, str]],
    host: str,
    body: bytes,
    access_key: str,
    secret: str,
    *,
    now: datetime,
    extra: dict[str, str] | None = None,
) -> tuple[dict[str, str], str]:
    """(headers, wire path with query) as huaweicloudsdkcore's Signer produces them."""
    header_params = {"X-Sdk-Date": now.strftime("%Y%m%dT%H%M%SZ"), "Host": host, **(extra or {})}
    if body:
        header_params.setdefault("Content-Type", "application/json")
    request = SdkRequest(
        method=method,
        schema="http",
        host=host,
        resource_path=path,
        query_params=list(query),
        header_params=header_params,
        body=body,
    )
    signed = Signer(BasicCredentials(access_key, secret)).sign(request)
    return dict(signed.header_params), signed.uri


def baidu_headers(
    method: str,
    path: str,
    query: dict[str, str],
    host: str,
    body: bytes,
    access_key: str,
    secret: str,
    *,
    now: datetime,
    expiration: int = 1800,
    headers_to_sign: list[str] | None = None,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """Headers as bce-python-sdk's bce_v1_signer.sign signs them (`path` is already encoded)."""
    headers = {
        "host": host,
        "x-bce-date": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "content-type": "application/json",
        "content-length": str(len(body)),
        **(extra or {}),
    }
    authorization = bce_v1_signer.sign(
        BceCredentials(access_key.encode(), secret.encode()),
        method.encode(),
        path.encode(),
        {k.encode(): v.encode() for k, v in headers.items()},
        {k.encode(): v.encode() for k, v in query.items()},
        timestamp=int(now.timestamp()),
        expiration_in_seconds=expiration,
        headers_to_sign=[h.encode() for h in headers_to_sign] if headers_to_sign else None,
    )
    headers["authorization"] = authorization.decode()
    return headers
