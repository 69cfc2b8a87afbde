"""Hostile answers: bodies and behaviours a provider (or anything in between) might send.

Each is streamed, never built whole in memory, so the simulator itself stays small while it
sends a 200 MB body, and each stops as soon as the client goes away.
"""

from __future__ import annotations

import json
import math
import re
import zlib
from collections.abc import Awaitable, Callable, Iterator
from functools import cache
from typing import Any

from aiohttp import web

CHUNK = 64 * 1024
Sleep = Callable[[float], Awaitable[None]]


def _gone(exc: BaseException) -> bool:
    return isinstance(exc, ConnectionError | RuntimeError)  # aiohttp raises both once a peer left


async def drip(
    request: web.Request, payload: bytes, interval: float, sleep: Sleep, headers: dict[str, str]
) -> web.StreamResponse:
    """The answer one byte at a time, `interval` seconds apart: per-read timeouts never fire."""
    response = web.StreamResponse(status=200, headers=headers)
    response.content_type = "application/json"
    response.content_length = len(payload)
    await response.prepare(request)
    try:
        for index in range(len(payload)):
            await response.write(payload[index : index + 1])
            await sleep(interval)
    except Exception as exc:
        if not _gone(exc):
            raise
    return response


def _padding_chunks(size: int | None) -> Iterator[bytes]:
    """`{"padding":"xxx...` in CHUNK pieces, `size` bytes in all (None: without end)."""
    head = b'{"padding":"'
    yield head
    sent = len(head)
    block = b"x" * CHUNK
    while size is None or sent < size:
        piece = block if size is None else block[: max(0, min(CHUNK, size - sent))]
        if not piece:
            break
        sent += len(piece)
        yield piece


async def huge(
    request: web.Request, size: int | None, headers: dict[str, str], *, chunked: bool
) -> web.StreamResponse:
    """A body of `size` bytes (None: without end), chunked or announced by its Content-Length."""
    response = web.StreamResponse(status=200, headers=headers)
    response.content_type = "application/json"
    if chunked or size is None:
        response.enable_chunked_encoding()
    else:
        response.content_length = size
    await response.prepare(request)
    try:
        for piece in _padding_chunks(size):
            await response.write(piece)
    except Exception as exc:
        if not _gone(exc):
            raise
    return response


@cache
def gzip_bomb(size: int) -> bytes:
    """`size` bytes of JSON-looking padding, gzip-compressed (about 1000:1), built in pieces."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [compressor.compress(piece) for piece in _padding_chunks(size)]
    parts.append(compressor.flush())
    return b"".join(parts)


async def bomb(request: web.Request, size: int, headers: dict[str, str]) -> web.StreamResponse:
    payload = gzip_bomb(size)
    response = web.StreamResponse(status=200, headers={**headers, "Content-Encoding": "gzip"})
    response.content_type = "application/json"
    response.content_length = len(payload)
    await response.prepare(request)
    try:
        for start in range(0, len(payload), CHUNK):
            await response.write(payload[start : start + CHUNK])
    except Exception as exc:
        if not _gone(exc):
            raise
    return response


_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T")


def echo_into(document: Any, echo: str) -> Any:
    """Every text of `document` with `echo` appended: a provider quoting the request back.

    Timestamps are left alone: they are not text, and a broken one would only exercise the
    timestamp check, not the scrubbing of texts."""
    if isinstance(document, dict):
        return {key: echo_into(value, echo) for key, value in document.items()}
    if isinstance(document, list):
        return [echo_into(value, echo) for value in document]
    if isinstance(document, str) and not _TIME.match(document):
        return f"{document} {echo}"
    return document


BAD_NUMBERS: dict[str, float] = {
    "nan": math.nan,
    "infinity": math.inf,
    "negative": -5,
    "huge": 1e30,
}


def numbers_into(document: Any, value: float) -> Any:
    """Every number of `document` (not booleans) replaced by `value`."""
    if isinstance(document, dict):
        return {key: numbers_into(item, value) for key, item in document.items()}
    if isinstance(document, list):
        return [numbers_into(item, value) for item in document]
    if isinstance(document, int | float) and not isinstance(document, bool):
        return value
    return document


def bad_numbers_payload(document: dict[str, Any], kind: str) -> bytes:
    # allow_nan writes NaN/Infinity literals, which many JSON parsers (Python's) accept.
    return json.dumps(numbers_into(document, BAD_NUMBERS[kind]), ensure_ascii=False, allow_nan=True).encode()


def deep_payload(depth: int) -> bytes:
    """A JSON object whose one field holds arrays nested `depth` levels deep."""
    return b'{"nested":' + b"[" * depth + b"]" * depth + b"}"
