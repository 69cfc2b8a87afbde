"""The one parser of Huawei Cloud error bodies (API gateway, ModelArts and IAM shapes)."""

from __future__ import annotations

from typing import Any

from cloudmodel_operator.providers.base import ErrorClass, ProviderError
from cloudmodel_operator.providers.http import Reply, classify_status, retry_after_seconds

THROTTLE_CODES = frozenset({"APIG.0308", "APIGW.0308", "ModelArts.0105"})
NOT_FOUND_CODES = frozenset({"ModelArts.3502", "ModelArts.0203"})
TOKEN_EXPIRED = "APIG.0307"  # noqa: S105 - an error code, not a secret
LOCKOUT_NOTE = "not retried: Huawei Cloud locks an AK/SK for 5 minutes after 5 failed attempts"
MAX_MESSAGE = 300


def classify(code: str | None, status: int) -> ErrorClass:
    if code:
        if code in THROTTLE_CODES:
            return ErrorClass.THROTTLED
        if code.startswith(("APIG.03", "APIGW.03", "IAM.")) or code == "ModelArts.0101":
            return ErrorClass.AUTH
        if code in NOT_FOUND_CODES:
            return ErrorClass.NOT_FOUND
    return classify_status(status) if status >= 400 else ErrorClass.PERMANENT


def error_from(body: dict[str, Any], response: Reply) -> ProviderError:
    nested = body.get("error") if isinstance(body.get("error"), dict) else None
    code = body.get("error_code") or (nested or {}).get("code")
    message = body.get("error_msg") or (nested or {}).get("message") or response.reason or "error"
    request_id = body.get("request_id") or response.headers.get("x-request-id")
    code_text = str(code) if code is not None else None
    error_class = classify(code_text, response.status)
    text = str(message)[:MAX_MESSAGE]
    if error_class is ErrorClass.AUTH:
        text = f"{text} ({LOCKOUT_NOTE})"
    return ProviderError(
        error_class,
        text,
        code=code_text,
        http_status=response.status,
        request_id=str(request_id) if request_id else None,
        retry_after=retry_after_seconds(response.headers) if error_class is ErrorClass.THROTTLED else None,
    )
