"""`baidu-qianfan`: Qianfan `DescribeComputeUnit` on the console route `/v2/computeunit`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from cloudmodel_operator.api.observation import Observation
from cloudmodel_operator.providers.baidu.mapping import map_compute_unit
from cloudmodel_operator.providers.baidu.models import DescribeComputeUnitResponse
from cloudmodel_operator.providers.baidu.signer import sign
from cloudmodel_operator.providers.base import (
    Credentials,
    CredentialsError,
    ErrorClass,
    Provider,
    ProviderError,
    Target,
)
from cloudmodel_operator.providers.http import (
    Reply,
    classify_status,
    fetch_json,
    retry_after_seconds,
    validate,
)
from cloudmodel_operator.providers.signing import RequestParts

# Qianfan's console API is global: one host, the region is a property of the compute unit.
HOST = "https://qianfan.baidubce.com"
AUTH_CODES = frozenset(
    {
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId",
        "AccessDenied",
        "RequestExpired",
        "InvalidHTTPAuthHeader",
        "AccessDeniedException",
        "InvalidSessionToken",
    }
)
THROTTLE_CODES = frozenset({"TooManyRequests", "RequestRateLimitExceeded", "QpsLimitReached", "18", "336501"})
TRANSIENT_CODES = frozenset({"336100", "500000", "InternalError", "ServiceUnavailable"})
MAX_MESSAGE = 300


def classify(code: str | None, status: int) -> ErrorClass:
    if code:
        if code in AUTH_CODES:
            return ErrorClass.AUTH
        if code in THROTTLE_CODES:
            return ErrorClass.THROTTLED
        if code in TRANSIENT_CODES:
            return ErrorClass.TRANSIENT
        if "NotFound" in code or "NoSuch" in code or "NotExist" in code:
            return ErrorClass.NOT_FOUND
    return classify_status(status) if status >= 400 else ErrorClass.PERMANENT


def error_from(body: dict[str, Any], response: Reply) -> ProviderError:
    code = body.get("code") or body.get("error_code") or response.headers.get("x-bce-error-code")
    message = body.get("message") or body.get("error_msg") or response.headers.get("x-bce-error-message")
    request_id = body.get("requestId") or body.get("log_id") or response.headers.get("x-bce-request-id")
    code_text = str(code) if code is not None else None
    error_class = classify(code_text, response.status)
    return ProviderError(
        error_class,
        str(message or response.reason or "error")[:MAX_MESSAGE],
        code=code_text,
        http_status=response.status,
        request_id=str(request_id) if request_id else None,
        retry_after=retry_after_seconds(response.headers) if error_class is ErrorClass.THROTTLED else None,
    )


class QianfanProvider(Provider):
    name: ClassVar[str] = "baidu-qianfan"
    credential_keys: ClassVar[tuple[str, ...]] = ("accessKey", "secretKey")
    global_endpoint: ClassVar[str | None] = HOST

    def validate_credentials(self, credentials: Credentials) -> None:
        for key in self.credential_keys:
            if credentials.get(key) is None:
                raise CredentialsError(
                    f"credentials have no '{key}' key (Baidu AI Cloud needs accessKey and secretKey)"
                )

    async def fetch(
        self, http: httpx.AsyncClient, base_url: str, target: Target, credentials: Credentials
    ) -> Observation:
        request = http.build_request(
            "POST",
            f"{base_url.rstrip('/')}/v2/computeunit",
            params={"Action": "DescribeComputeUnit"},
            content=json.dumps({"instanceId": target.instance_id}).encode(),
            headers={"Content-Type": "application/json"},
        )
        request.headers.update(
            sign(
                RequestParts.from_httpx(request),
                credentials.require("accessKey"),
                credentials.require("secretKey"),
                now=datetime.now(UTC),
            )
        )
        body, response = await fetch_json(http, request, error_from)
        if body.get("code") or body.get("error_code"):  # console errors can come with HTTP 200
            raise error_from(body, response)
        parsed = validate(DescribeComputeUnitResponse, body, "DescribeComputeUnit")
        return map_compute_unit(parsed, response.headers.get("x-bce-request-id"))
