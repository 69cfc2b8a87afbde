"""Calls to Alibaba Cloud OpenAPI (ROA and RPC styles) and the one parser of its error shape."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from cloudmodel_operator.providers.alibaba.signer import sign
from cloudmodel_operator.providers.base import Credentials, CredentialsError, ErrorClass, ProviderError
from cloudmodel_operator.providers.http import Reply, classify_status, fetch_json, retry_after_seconds
from cloudmodel_operator.providers.signing import RequestParts

CREDENTIAL_KEYS = ("accessKeyId", "accessKeySecret", "securityToken")
MAX_MESSAGE = 300  # Alibaba echoes the whole string-to-sign on signature errors: keep it short

AUTH_CODE_PREFIXES = (
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "InvalidSecurityToken",
    "InvalidTimeStamp",
    "SignatureNonceUsed",
    "Forbidden",
    "NoPermission",
    "InvalidAuthorization",
    "MissingSecurityToken",
)
NOT_FOUND_MARKERS = ("NotFound", "NotExist", "NoSuch")


def validate_credentials(credentials: Credentials) -> None:
    for key in ("accessKeyId", "accessKeySecret"):
        if credentials.get(key) is None:
            raise CredentialsError(
                f"credentials have no '{key}' key (Alibaba Cloud needs accessKeyId, accessKeySecret "
                "and optionally securityToken)"
            )


def classify(code: str | None, status: int) -> ErrorClass:
    """Error class from Alibaba's error code first, then the HTTP status."""
    if code:
        if code.startswith("Throttling") or code in ("ServiceUnavailable.Throttling", "Flow.Limited"):
            return ErrorClass.THROTTLED
        if code.startswith(AUTH_CODE_PREFIXES):
            return ErrorClass.AUTH
        if any(marker in code for marker in NOT_FOUND_MARKERS):
            return ErrorClass.NOT_FOUND
    return classify_status(status) if status >= 400 else ErrorClass.PERMANENT


def error_from(body: dict[str, Any], response: Reply) -> ProviderError:
    code = body.get("Code") or body.get("code")
    message = str(body.get("Message") or body.get("message") or response.reason or "error")
    request_id = body.get("RequestId") or body.get("requestId") or response.headers.get("x-acs-request-id")
    error_class = classify(str(code) if code else None, response.status)
    retry_after = None
    if error_class is ErrorClass.THROTTLED:
        # Alibaba's own header is in milliseconds (the SDK sleeps that long); fall back to Retry-After.
        retry_after = retry_after_seconds(response.headers, header="x-acs-retry-after", unit=0.001)
        if retry_after is None:
            retry_after = retry_after_seconds(response.headers)
    return ProviderError(
        error_class,
        message[:MAX_MESSAGE],
        code=str(code) if code else None,
        http_status=response.status,
        request_id=str(request_id) if request_id else None,
        retry_after=retry_after,
    )


async def call(
    client: httpx.AsyncClient,
    credentials: Credentials,
    *,
    method: str,
    url: str,
    query: dict[str, str] | None,
    action: str,
    version: str,
) -> dict[str, Any]:
    """One signed call; the JSON object on success, `ProviderError` otherwise."""
    request = client.build_request(method, url, params=query)
    headers = sign(
        RequestParts.from_httpx(request),
        credentials.require("accessKeyId"),
        credentials.require("accessKeySecret"),
        credentials.get("securityToken"),
        action=action,
        version=version,
        now=datetime.now(UTC),
    )
    request.headers.update(headers)
    body, _ = await fetch_json(client, request, error_from)
    return body
