"""The one HTTP client factory and the transport functions every provider uses.

Nothing a provider sends is trusted: the body is streamed with a cap on the bytes on the wire
and on the decompressed size (the operator decodes gzip/deflate itself, in bounded steps, so a
compression bomb stops at the cap), a whole request has a deadline of its own (a server that
drips one byte every few seconds never trips a per-read timeout), JSON is parsed with guards
against NaN/Infinity and deep nesting, and every way a connection can fail is one
`ProviderError(TRANSIENT)`.
"""

from __future__ import annotations

import asyncio
import json
import math
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from cloudmodel_operator import __version__
from cloudmodel_operator.providers.base import ErrorClass, ProviderError

USER_AGENT = f"cloudmodel-operator/{__version__} (+https://github.com/cloudmodel-operator)"
DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
DEFAULT_LIMITS = httpx.Limits(max_connections=50, max_keepalive_connections=20, keepalive_expiry=30.0)
MAX_BODY_BYTES = 4 * 1024 * 1024  # on the wire and decoded: a provider answer this large is not a status
REQUEST_DEADLINE = 30.0  # seconds from sending a request to the last byte of its answer
MAX_JSON_DEPTH = 64  # the seed documents nest 4 levels deep
# What parsing builds costs memory, not the bytes: 4 MB of `{},` is a million objects, and through
# the response models gigabytes. The seed answers hold fewer than ten objects and arrays and
# fewer than forty values; these bounds are a hundred times more and cost a few megabytes.
MAX_JSON_CONTAINERS = 1_000
MAX_JSON_VALUES = 20_000
# Only what the operator decodes itself, in bounded steps; anything else is refused.
ACCEPT_ENCODING = "gzip, deflate"
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


@dataclass(frozen=True)
class Reply:
    """A provider's complete, size-checked answer."""

    status: int
    reason: str
    headers: httpx.Headers
    body: bytes


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
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING},
        follow_redirects=False,
        verify=True,
        trust_env=False,
    )


class _BoundedDecoder:
    """Content-Encoding decoding that never produces more than `limit` bytes in total."""

    def __init__(self, encoding: str, limit: int, host: str) -> None:
        self.limit, self.host, self.size = limit, host, 0
        self.encoding = encoding
        if encoding in ("", "identity"):
            self._zlib = None
        elif encoding in _WBITS:
            self._zlib = zlib.decompressobj(_WBITS[encoding])
        else:
            raise ProviderError(
                ErrorClass.INVALID_RESPONSE, f"{host} answered with unsupported content encoding {encoding!r}"
            )
        self._first = True

    def feed(self, chunk: bytes) -> bytes:
        if self._zlib is None:
            return self._count(chunk)
        room = self.limit - self.size + 1  # one byte more than allowed proves the cap is exceeded
        try:
            out = self._zlib.decompress(chunk, room)
        except zlib.error:
            if not (self._first and self.encoding == "deflate"):
                raise
            # Servers send raw deflate as "deflate" too (as httpx also accepts).
            self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self._zlib.decompress(chunk, room)
        self._first = False
        if self._zlib.unconsumed_tail:
            self._too_large("decompressed")
        return self._count(out)

    def flush(self) -> bytes:
        if self._zlib is None:
            return b""
        return self._count(self._zlib.flush(self.limit - self.size + 1))

    def _count(self, data: bytes) -> bytes:
        self.size += len(data)
        if self.size > self.limit:
            self._too_large("decompressed" if self._zlib is not None else "")
        return data

    def _too_large(self, how: str) -> None:
        what = f"{how} body" if how else "body"
        raise ProviderError(
            ErrorClass.INVALID_RESPONSE, f"{self.host} sent a {what} larger than {self.limit} bytes"
        )


async def _read_capped(response: httpx.Response, host: str) -> bytes:
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ProviderError(
            ErrorClass.INVALID_RESPONSE,
            f"{host} announced a body of {declared} bytes, more than {MAX_BODY_BYTES}",
            http_status=response.status_code,
        )
    encoding = response.headers.get("content-encoding", "").strip().lower()
    decoder = _BoundedDecoder(encoding, MAX_BODY_BYTES, host)
    parts: list[bytes] = []
    wire = 0
    # The raw stream, not `aiter_raw()`: an in-process transport (tests) hands over bodies already
    # held in memory, which `aiter_raw()` refuses as consumed; on the network both are the same.
    stream = response.stream
    assert isinstance(stream, httpx.AsyncByteStream)
    try:
        async for chunk in stream:
            wire += len(chunk)
            if wire > MAX_BODY_BYTES:
                raise ProviderError(
                    ErrorClass.INVALID_RESPONSE, f"{host} sent more than {MAX_BODY_BYTES} bytes"
                )
            parts.append(decoder.feed(chunk))
        parts.append(decoder.flush())
    except zlib.error as exc:
        raise ProviderError(
            ErrorClass.INVALID_RESPONSE, f"{host} sent a body that does not decode as {encoding}"
        ) from exc
    except ProviderError as error:
        error.http_status = response.status_code
        raise
    return b"".join(parts)


async def send(client: httpx.AsyncClient, request: httpx.Request) -> Reply:
    """Send a prepared request and read its whole (capped) answer; never follows redirects.

    Network failures, timeouts and a connection closed mid-answer are `ProviderError(TRANSIENT)`.
    Cancellation (the engine's deadline around `observe`) closes the response, and with it the
    connection, before it propagates.
    """
    host = request.url.host
    try:
        async with asyncio.timeout(REQUEST_DEADLINE):
            response = await client.send(request, stream=True)
            try:
                body = await _read_capped(response, host)
            except ProviderError as error:
                # Without the frames that read the body: the error is kept (retries, the fetcher's
                # cache) in reference cycles until a full collection, and they hold up to the cap.
                raise error.with_traceback(None) from None
            finally:
                await response.aclose()
    except TimeoutError as exc:
        raise ProviderError(
            ErrorClass.TRANSIENT, f"no complete answer from {host} within {REQUEST_DEADLINE:.0f}s"
        ) from exc
    except httpx.TimeoutException as exc:
        raise ProviderError(ErrorClass.TRANSIENT, f"timed out talking to {host}") from exc
    except httpx.RemoteProtocolError as exc:
        raise ProviderError(ErrorClass.TRANSIENT, f"{host} closed the connection mid-answer") from exc
    except httpx.HTTPError as exc:
        raise ProviderError(ErrorClass.TRANSIENT, f"cannot reach {host}: {type(exc).__name__}") from exc
    return Reply(response.status_code, response.reason_phrase, response.headers, body)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text} is out of range")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _depth_exceeds(document: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def parse_json_object(reply: Reply) -> dict[str, Any]:
    """The body as a JSON object, or `ProviderError(INVALID_RESPONSE)` saying what was wrong."""

    def invalid(why: str) -> ProviderError:
        return ProviderError(ErrorClass.INVALID_RESPONSE, why, http_status=reply.status)

    # Counted on the bytes, before anything is built (braces and commas inside strings count too).
    containers = reply.body.count(b"{") + reply.body.count(b"[")
    values = containers + reply.body.count(b",")
    if containers > MAX_JSON_CONTAINERS:
        raise invalid(
            f"response body holds {containers} JSON objects and arrays, more than the {MAX_JSON_CONTAINERS} "
            "a status can describe"
        )
    if values > MAX_JSON_VALUES:
        raise invalid(
            f"response body holds {values} JSON values, more than the {MAX_JSON_VALUES} a status can describe"
        )
    try:
        body = json.loads(reply.body, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError:
        raise invalid(f"response body is JSON nested too deeply ({len(reply.body)} bytes)") from None
    except ValueError as exc:
        raise invalid(f"response body is not valid JSON ({len(reply.body)} bytes)") from exc
    if not isinstance(body, dict):
        raise invalid(f"response body is JSON {type(body).__name__}, expected an object")
    if _depth_exceeds(body, MAX_JSON_DEPTH):
        raise invalid(f"response body is JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return body


def retry_after_seconds(
    headers: Mapping[str, str], *, header: str = "Retry-After", unit: float = 1.0
) -> float | None:
    """Parse a delay header (`unit` converts its number to seconds); None when absent or bad."""
    raw = headers.get(header)
    if raw is None:
        return None
    try:
        value = float(raw) * unit
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


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


ErrorParser = Callable[[dict[str, Any], Reply], ProviderError]
M = TypeVar("M", bound=BaseModel)


async def fetch_json(
    client: httpx.AsyncClient, request: httpx.Request, error_from: ErrorParser
) -> tuple[dict[str, Any], Reply]:
    """Send a signed request; its JSON object on 2xx, else the provider's error parsed by `error_from`."""
    reply = await send(client, request)
    if reply.status >= 300:  # redirects are never followed: a 3xx is an answer we cannot use
        try:
            body = parse_json_object(reply)
        except ProviderError:
            body = {}  # an HTML error page from a gateway: the status code and headers still tell
        raise error_from(body, reply)
    return parse_json_object(reply), reply


def validate(model: type[M], body: dict[str, Any], what: str) -> M:
    """Parse a response body into its model, or `ProviderError(INVALID_RESPONSE)` naming the field."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors(include_input=False, include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ProviderError(
            ErrorClass.INVALID_RESPONSE, f"unexpected {what} body at {where}: {first['msg']}"
        ) from None
