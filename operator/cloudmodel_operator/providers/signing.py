"""The request as a signer sees it.

Signers are pure functions of these parts (plus credentials, time and nonce), which keeps them
independent of the HTTP library and lets tests feed the official SDKs the very same request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

import httpx


@dataclass(frozen=True)
class RequestParts:
    """Method, raw path, decoded query pairs, lower-cased headers and body of one request."""

    method: str
    path: str  # as sent on the wire (already percent-encoded)
    query: tuple[tuple[str, str], ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def from_httpx(cls, request: httpx.Request) -> RequestParts:
        raw_path = request.url.raw_path.decode("ascii")
        path, _, raw_query = raw_path.partition("?")
        return cls(
            method=request.method.upper(),
            path=path or "/",
            query=tuple(parse_qsl(raw_query, keep_blank_values=True)),
            headers={name.lower(): value for name, value in request.headers.items()},
            body=request.content,
        )

    @classmethod
    def from_raw(cls, method: str, raw_path: str, headers: Mapping[str, str], body: bytes) -> RequestParts:
        """Build from what a server saw: `raw_path` includes the query string."""
        path, _, raw_query = raw_path.partition("?")
        return cls(
            method=method.upper(),
            path=path or "/",
            query=tuple(parse_qsl(raw_query, keep_blank_values=True)),
            headers={name.lower(): value for name, value in headers.items()},
            body=body,
        )
