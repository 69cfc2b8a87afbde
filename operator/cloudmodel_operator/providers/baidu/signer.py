"""Baidu AI Cloud request signature (bce-auth-v1).

The signing key is the hex HMAC of the auth-string prefix; the canonical request has no payload
hash. Signed headers: host, content-type, content-length, content-md5 and every x-bce-* header,
listed explicitly so the server verifies exactly what was sent.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import quote, unquote

from cloudmodel_operator.providers.signing import RequestParts

DEFAULT_EXPIRATION_SECONDS = 1800
DEFAULT_SIGNED = ("host", "content-md5", "content-length", "content-type")


def uri_encode(value: str, *, keep_slash: bool = False) -> str:
    return quote(value, safe="-_.~/" if keep_slash else "-_.~", encoding="utf-8")


def canonical_query(query: Sequence[tuple[str, str]]) -> str:
    pairs = [f"{uri_encode(k)}={uri_encode(v)}" for k, v in query if k.lower() != "authorization"]
    return "&".join(sorted(pairs))


def signed_header_names(headers: Mapping[str, str]) -> list[str]:
    return sorted(
        name
        for name, value in headers.items()
        if value.strip() and (name in DEFAULT_SIGNED or name.startswith("x-bce-"))
    )


def signature(
    secret_key: str,
    auth_prefix: str,
    method: str,
    path: str,
    query: Sequence[tuple[str, str]],
    headers: Mapping[str, str],
    signed_headers: Sequence[str],
) -> str:
    signing_key = hmac.new(secret_key.encode(), auth_prefix.encode(), hashlib.sha256).hexdigest()
    canonical_headers = "\n".join(
        sorted(
            f"{uri_encode(name.strip().lower())}:{uri_encode(headers[name].strip())}"
            for name in signed_headers
        )
    )
    # The path arrives percent-encoded on the wire; Baidu canonicalizes the decoded path.
    canonical_request = "\n".join(
        [
            method.upper(),
            uri_encode(unquote(path) or "/", keep_slash=True),
            canonical_query(query),
            canonical_headers,
        ]
    )
    return hmac.new(signing_key.encode(), canonical_request.encode(), hashlib.sha256).hexdigest()


def sign(
    parts: RequestParts,
    access_key: str,
    secret_key: str,
    *,
    now: datetime | None = None,
    expiration_seconds: int = DEFAULT_EXPIRATION_SECONDS,
) -> dict[str, str]:
    """The headers to add to `parts` so Baidu AI Cloud accepts it (including `authorization`)."""
    timestamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    added = {"x-bce-date": timestamp}
    headers = {**parts.headers, **added}
    names = signed_header_names(headers)
    prefix = f"bce-auth-v1/{access_key}/{timestamp}/{expiration_seconds}"
    value = signature(secret_key, prefix, parts.method, parts.path, parts.query, headers, names)
    added["authorization"] = f"{prefix}/{';'.join(names)}/{value}"
    return added
