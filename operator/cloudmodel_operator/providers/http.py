"""The one HTTP client factory and the transport helpers every provider uses."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from cloudmodel_operator import __version__
from cloudmodel_operator.providers.base import ErrorClass, ProviderError

USER_AGENT = f"cloudmodel-operator/{__version__} (+https://github.com/cloudmodel-operator)"
DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
DEFAULT_LIMITS = httpx.Limits(max_connections=50, max_keepalive_connections=20, keepalive_expiry=30.0)
MAX_BODY_BYTES = 4 * 1024 * 1024  # a provider answer larger than this is not a status document


def make_client(
    *, timeout: httpx.Timeout | None = None, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """Build the shared async client: TLS verified, bounded pools, our User-Agent, no redirects.

    `transport` replaces the network (an in-process fake in tests); everything else stays.
    """
    return httpx.AsyncClient(
        transport=transport,
        timeout=timeout or DEFAULT_TIMEOUT,
        limits=DEFAULT_LIMITS,
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
        verify=True,
        trust_env=False,
    )


async def send(client: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    """Send a prepared request; network failures become `ProviderError(TRANSIENT)`."""
    try:
        response = await client.send(request)
        await response.aread()
    except httpx.TimeoutException as exc:
        raise ProviderError(ErrorClass.TRANSIENT, f"timed out talking to {request.url.host}") from exc
    except httpx.RemoteProtocolError as exc:
        raise ProviderError(
            ErrorClass.INVALID_RESPONSE, f"{request.url.host} closed the connection mid-answer"
        ) from exc
    except httpx.TransportError as exc:
        raise ProviderError(
            ErrorClass.TRANSIENT, f"cannot reach {request.url.host}: {type(exc).__name__}"
        ) from exc
    return response


def parse_json_object(response: httpx.Response) -> dict[str, Any]:
    """The body as a JSON object, or `ProviderError(INVALID_RESPONSE)` saying what was wrong."""
    if len(response.content) > MAX_BODY_BYTES:
        raise ProviderError(
            ErrorClass.INVALID_RESPONSE,
            f"response body of {len(response.content)} bytes exceeds {MAX_BODY_BYTES}",
            http_status=response.status_code,
        )
    try:
        body = json.loads(response.content)
    except ValueError as exc:
        raise ProviderError(
            ErrorClass.INVALID_RESPONSE,
            f"response body is not valid JSON ({len(response.content)} bytes)",
            http_status=response.status_code,
        ) from exc
    if not isinstance(body, dict):
        raise ProviderError(
            ErrorClass.INVALID_RESPONSE,
            f"response body is JSON {type(body).__name__}, expected an object",
            http_status=response.status_code,
        )
    return body


def retry_after_seconds(
    response: httpx.Response, *, header: str = "Retry-After", unit: float = 1.0
) -> float | None:
    """Parse a delay header (`unit` converts its number to seconds); None when absent or bad."""
    raw = response.headers.get(header)
    if raw is None:
        return None
    try:
        value = float(raw) * unit
    except ValueError:
        return None
    return value if value >= 0 else None


def classify_status(status: int) -> ErrorClass:
    """The default class of an HTTP error status, before provider error codes refine it."""
    if status in (401, 403):
        return ErrorClass.AUTH
    if status == 404:
        return ErrorClass.NOT_FOUND
    if status == 429:
        return ErrorClass.THROTTLED
    if status >= 500:
        return ErrorClass.TRANSIENT
    return ErrorClass.PERMANENT


ErrorParser = Callable[[dict[str, Any], httpx.Response], ProviderError]
M = TypeVar("M", bound=BaseModel)


async def fetch_json(
    client: httpx.AsyncClient, request: httpx.Request, error_from: ErrorParser
) -> tuple[dict[str, Any], httpx.Response]:
    """Send a signed request; its JSON object on 2xx, else the provider's error parsed by `error_from`."""
    response = await send(client, request)
    if response.status_code >= 400:
        try:
            body = parse_json_object(response)
        except ProviderError:
            body = {}  # an HTML error page from a gateway: the status code and headers still tell
        raise error_from(body, response)
    return parse_json_object(response), response


def validate(model: type[M], body: dict[str, Any], what: str) -> M:
    """Parse a response body into its model, or `ProviderError(INVALID_RESPONSE)` naming the field."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ProviderError(
            ErrorClass.INVALID_RESPONSE, f"unexpected {what} body at {where}: {first['msg']}"
        ) from None
