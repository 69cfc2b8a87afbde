"""Huawei Cloud AK/SK request signature (SDK-HMAC-SHA256).

Signed headers: host, content-type, x-sdk-date and, when present, x-security-token and
x-project-id. The canonical URI is the decoded path re-encoded per segment, ending with `/`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import quote, unquote

from cloudmodel_operator.providers.signing import RequestParts

ALGORITHM = "SDK-HMAC-SHA256"
SIGNED = ("host", "content-type", "x-sdk-date", "x-security-token", "x-project-id")


def _encode(value: str) -> str:
    return quote(value, safe="~")


def canonical_uri(path: str) -> str:
    uri = "/".join(_encode(segment) for segment in unquote(path or "/").split("/"))
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(query: Sequence[tuple[str, str]]) -> str:
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted(query))


def signature(
    secret_key: str,
    method: str,
    path: str,
    query: Sequence[tuple[str, str]],
    headers: Mapping[str, str],
    signed_headers: Sequence[str],
    body: bytes,
    sdk_date: str,
) -> str:
    canonical_headers = "".join(f"{name}:{headers[name].strip()}\n" for name in signed_headers)
    canonical_request = "\n".join(
        [
            method.upper(),
            canonical_uri(path),
            canonical_query(query),
            canonical_headers,
            ";".join(signed_headers),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    string_to_sign = f"{ALGORITHM}\n{sdk_date}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"
    return hmac.new(secret_key.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()


def sign(
    parts: RequestParts,
    access_key: str,
    secret_key: str,
    security_token: str | None = None,
    *,
    now: datetime | None = None,
) -> dict[str, str]:
    """The headers to add to `parts` so Huawei Cloud accepts it (including `authorization`)."""
    sdk_date = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    added = {"x-sdk-date": sdk_date}
    if security_token:
        added["x-security-token"] = security_token
    headers = {**parts.headers, **added}
    names = sorted(name for name in headers if name in SIGNED)
    value = signature(secret_key, parts.method, parts.path, parts.query, headers, names, parts.body, sdk_date)
    added["authorization"] = (
        f"{ALGORITHM} Access={access_key}, SignedHeaders={';'.join(names)}, Signature={value}"
    )
    return added
