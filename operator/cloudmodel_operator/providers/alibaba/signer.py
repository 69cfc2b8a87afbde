"""Alibaba Cloud V3 request signature (ACS3-HMAC-SHA256), with STS security token support.

Signed headers are `host`, every `x-acs-*` header and `content-type` when present; the
canonical query encodes keys and values with RFC 3986 unreserved characters left alone.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import quote

from cloudmodel_operator.providers.signing import RequestParts

ALGORITHM = "ACS3-HMAC-SHA256"


def _encode(value: str) -> str:
    return quote(value, safe="~", encoding="utf-8")


def canonical_query(query: Sequence[tuple[str, str]]) -> str:
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted(query))


def signed_header_names(headers: Mapping[str, str]) -> list[str]:
    return sorted(name for name in headers if name in ("host", "content-type") or name.startswith("x-acs-"))


def signature(
    access_key_secret: str,
    method: str,
    path: str,
    query: Sequence[tuple[str, str]],
    headers: Mapping[str, str],
    signed_headers: Sequence[str],
    payload_hash: str,
) -> str:
    canonical_headers = "".join(f"{name}:{headers[name].strip()}\n" for name in signed_headers)
    canonical_request = "\n".join(
        [
            method,
            path or "/",
            canonical_query(query),
            canonical_headers,
            ";".join(signed_headers),
            payload_hash,
        ]
    )
    string_to_sign = f"{ALGORITHM}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"
    return hmac.new(access_key_secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()


def sign(
    parts: RequestParts,
    access_key_id: str,
    access_key_secret: str,
    security_token: str | None = None,
    *,
    action: str,
    version: str,
    now: datetime | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The headers to add to `parts` so Alibaba Cloud accepts it (including `authorization`)."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    added = {
        "x-acs-action": action,
        "x-acs-version": version,
        "x-acs-date": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "x-acs-signature-nonce": nonce or uuid.uuid4().hex,
        "x-acs-content-sha256": hashlib.sha256(parts.body).hexdigest(),
    }
    if security_token:
        added["x-acs-security-token"] = security_token
    headers = {**parts.headers, **added}
    names = signed_header_names(headers)
    value = signature(
        access_key_secret,
        parts.method,
        parts.path,
        parts.query,
        headers,
        names,
        added["x-acs-content-sha256"],
    )
    added["authorization"] = (
        f"{ALGORITHM} Credential={access_key_id},SignedHeaders={';'.join(names)},Signature={value}"
    )
    return added
