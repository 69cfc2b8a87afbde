"""What differs between the four provider APIs: ids, body modules, error shapes, throttling.

Error codes, statuses and body shapes follow each provider's public documentation; where a
provider documents no code for a case (e.g. Hologres "instance not found") the choice is marked
as such and kept here, in one place, so it is easy to correct.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

from aiohttp import web

from cloudmodel_dev.simulator.bodies import guardrail, hologres, modelarts, qianfan
from cloudmodel_dev.simulator.scenario import Fault

Cloud = Literal["alibaba", "huawei", "baidu"]
JSON_TYPE = "application/json;charset=utf-8"


@dataclass(frozen=True)
class Reply:
    """An error to render in the provider's own shape."""

    status: int
    code: str
    message: str


class ProviderApi:
    """Base: the behaviour every provider shares, parametrised by the class attributes."""

    provider: str
    cloud: Cloud
    body: ModuleType
    request_id_field: str | None = None
    request_id_header: str = "X-Request-Id"
    retry_after_header: str = "Retry-After"
    retry_after_unit: float = 1.0  # seconds per header unit
    internal_error = Reply(500, "InternalError", "Internal error.")
    throttled = Reply(429, "Throttling", "Too many requests.")
    defaults_by_status: dict[int, Reply] = {}  # noqa: RUF012 - read-only tables on each subclass

    @staticmethod
    def new_request_id() -> str:
        return str(uuid.uuid4())

    def default_body(self, target_id: str, state: str) -> dict[str, Any]:
        built: dict[str, Any] = self.body.default_body(target_id, state)
        return built

    def default_state(self) -> str:
        return str(self.body.DEFAULT_STATE)

    def set_unknown_state(self, document: dict[str, Any], value: str | None) -> None:
        self.body.set_state(document, value if value is not None else self.body.UNKNOWN_STATE)

    def success(self, document: dict[str, Any], request_id: str) -> web.Response:
        if self.request_id_field and self.request_id_field not in document:
            document[self.request_id_field] = request_id
        return self.json(200, document, request_id)

    def verbatim(self, body: bytes, request_id: str) -> web.Response:
        """A success answer whose body is exactly `body` (a seed example; its own request id kept)."""
        return web.Response(
            status=200,
            body=body,
            content_type="application/json",
            charset="utf-8",
            headers={self.request_id_header: request_id},
        )

    def json(
        self, status: int, document: dict[str, Any], request_id: str, headers: dict[str, str] | None = None
    ) -> web.Response:
        all_headers = {self.request_id_header: request_id, **(headers or {})}
        return web.Response(
            status=status,
            body=json.dumps(document, ensure_ascii=False).encode(),
            content_type="application/json",
            charset="utf-8",
            headers=all_headers,
        )

    def error(
        self,
        reply: Reply,
        request_id: str,
        request: web.Request,
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        raise NotImplementedError

    def not_found(self, target_id: str, request_id: str, request: web.Request) -> web.Response:
        raise NotImplementedError

    def fault_error(self, fault: Fault, request_id: str, request: web.Request) -> web.Response:
        base = self.internal_error
        if fault.status is not None:
            base = self.defaults_by_status.get(fault.status, Reply(fault.status, base.code, base.message))
        reply = Reply(fault.status or base.status, fault.code or base.code, fault.message or base.message)
        return self.error(reply, request_id, request)

    def throttle(self, fault: Fault, request_id: str, request: web.Request) -> web.Response:
        reply = Reply(
            fault.status or self.throttled.status,
            fault.code or self.throttled.code,
            fault.message or self.throttled.message,
        )
        headers = {}
        if fault.retryAfter is not None:
            headers[self.retry_after_header] = _number(fault.retryAfter / self.retry_after_unit)
        return self.error(reply, request_id, request, headers)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


class AlibabaApi(ProviderApi):
    """Alibaba Cloud POP gateway: `{RequestId, HostId, Code, Message, Recommend}`, HTTP 4xx/5xx."""

    cloud: Cloud = "alibaba"
    product = ""
    request_id_header = "x-acs-request-id"
    # alibabacloud_tea_openapi reads `x-acs-retry-after` as milliseconds (darabonba caps it at 120000).
    retry_after_header = "x-acs-retry-after"
    retry_after_unit = 0.001
    internal_error = Reply(
        500,
        "InternalError",
        "The request processing has failed due to some unknown error, exception or failure.",
    )
    throttled = Reply(429, "Throttling.User", "Request was denied due to user flow control.")
    defaults_by_status = {  # noqa: RUF012
        400: Reply(400, "InvalidParameter", "The specified parameter is not valid."),
        403: Reply(403, "Forbidden.RAM", "User not authorized to operate on the specified resource."),
        429: throttled,
        500: internal_error,
        503: Reply(
            503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server."
        ),
    }

    @staticmethod
    def new_request_id() -> str:
        return str(uuid.uuid4()).upper()

    def error(
        self,
        reply: Reply,
        request_id: str,
        request: web.Request,
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        document = {
            "RequestId": request_id,
            "HostId": request.host,
            "Code": reply.code,
            "Message": reply.message,
            "Recommend": f"https://api.aliyun.com/troubleshoot?q={reply.code}&product={self.product}&requestId={request_id}",
        }
        return self.json(reply.status, document, request_id, headers)


class HologresApi(AlibabaApi):
    provider = "alibaba-hologres"
    product = "Hologram"
    body = hologres
    request_id_field = "requestId"
    # Not in the public docs for GetInstanceModel: the usual POP "Invalid<Param>.NotFound" pattern.
    not_found_reply = Reply(404, "InvalidInstanceId.NotFound", "The specified instance does not exist.")

    def not_found(self, target_id: str, request_id: str, request: web.Request) -> web.Response:
        return self.error(self.not_found_reply, request_id, request)


class GuardrailApi(AlibabaApi):
    """RPC API whose application errors come back as HTTP 200 with `Success: false`."""

    provider = "alibaba-guardrail"
    product = "Rai"
    body = guardrail
    request_id_field = "RequestId"
    # Not in the public docs: the application's own not-found answer, shaped like the seed's body.
    not_found_code = "ModelInstanceNotExist"

    def body_error(self, status: int, code: str, message: str, request_id: str) -> web.Response:
        document = {
            "Code": code,
            "Success": False,
            "HttpStatusCode": status,
            "Message": message,
            "RequestId": request_id,
        }
        return self.json(200, document, request_id)

    def not_found(self, target_id: str, request_id: str, request: web.Request) -> web.Response:
        instance, _, scene = target_id.partition("/")
        message = f"Model instance {instance} does not exist or has no {scene} configuration."
        return self.body_error(404, self.not_found_code, message, request_id)

    def fault_error(self, fault: Fault, request_id: str, request: web.Request) -> web.Response:
        if fault.status == 200:
            return self.body_error(
                500, fault.code or "InternalError", fault.message or "System error.", request_id
            )
        return super().fault_error(fault, request_id, request)


class ModelArtsApi(ProviderApi):
    """Huawei Cloud: `{error_code, error_msg}` (+ `request_id` from the API gateway)."""

    provider = "huawei-modelarts"
    cloud: Cloud = "huawei"
    body = modelarts
    request_id_header = "X-Request-Id"
    internal_error = Reply(500, "APIG.0201", "An unexpected error occurred")
    throttled = Reply(
        429,
        "APIG.0308",
        "The throttling threshold has been reached: policy user over ratelimit,limit:100,time:1 minute",
    )
    defaults_by_status = {  # noqa: RUF012
        400: Reply(400, "ModelArts.0104", "Parameter error."),
        401: Reply(401, "APIG.0301", "Incorrect IAM authentication information: decrypt token fail"),
        403: Reply(
            403,
            "ModelArts.0203",
            "Invalid token, the project id in token is mismatch with the project id in url.",
        ),
        429: throttled,
        500: internal_error,
        502: Reply(502, "APIG.0201", "Backend unavailable."),
        504: Reply(504, "APIG.0201", "Backend timeout."),
    }

    @staticmethod
    def new_request_id() -> str:
        return uuid.uuid4().hex

    def error(
        self,
        reply: Reply,
        request_id: str,
        request: web.Request,
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        document: dict[str, Any] = {"error_code": reply.code, "error_msg": reply.message}
        if reply.code.startswith("APIG"):
            document["request_id"] = request_id
        return self.json(reply.status, document, request_id, headers)

    def not_found(self, target_id: str, request_id: str, request: web.Request) -> web.Response:
        _, service_id = modelarts.split_id(target_id)
        return self.error(
            Reply(404, "ModelArts.3502", f"Service {service_id} does not exist."), request_id, request
        )


class QianfanApi(ProviderApi):
    """Baidu AI Cloud: `{requestId, code, message}` plus `x-bce-request-id`."""

    provider = "baidu-qianfan"
    cloud: Cloud = "baidu"
    body = qianfan
    request_id_field = "requestId"
    request_id_header = "x-bce-request-id"
    internal_error = Reply(500, "InternalError", "We encountered an internal error. Please try again.")
    # Not documented for this API: HTTP 429 with a BCE-style code.
    throttled = Reply(429, "TooManyRequests", "Request rate exceeds the limit, please try again later.")
    defaults_by_status = {  # noqa: RUF012
        400: Reply(400, "InvalidHTTPRequest", "There was an error in the body of your HTTP request."),
        403: Reply(403, "AccessDenied", "Access denied."),
        429: throttled,
        500: internal_error,
        503: Reply(503, "ServiceUnavailable", "Service is unavailable, please try again later."),
    }
    # Not documented for this API: BCE's generic shape with a resource-specific code.
    not_found_reply_code = "ResourceNotFound"

    def error(
        self,
        reply: Reply,
        request_id: str,
        request: web.Request,
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        document = {"requestId": request_id, "code": reply.code, "message": reply.message}
        return self.json(reply.status, document, request_id, headers)

    def not_found(self, target_id: str, request_id: str, request: web.Request) -> web.Response:
        reply = Reply(
            404, self.not_found_reply_code, f"The compute unit instance {target_id} does not exist."
        )
        return self.error(reply, request_id, request)


APIS: dict[str, ProviderApi] = {
    api.provider: api for api in (HologresApi(), GuardrailApi(), ModelArtsApi(), QianfanApi())
}
