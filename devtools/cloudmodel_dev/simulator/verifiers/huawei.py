"""Huawei Cloud SDK-HMAC-SHA256 (APIG AK/SK signature) and IAM token verification.

Spec: CanonicalRequest = METHOD \\n CanonicalURI \\n CanonicalQuery \\n CanonicalHeaders \\n
SignedHeaders \\n hex(sha256(body)); the URI is each decoded path segment RFC 3986 encoded and
always ends with '/'; StringToSign = "SDK-HMAC-SHA256\\n" + X-Sdk-Date + "\\n" + hex(sha256(CR)).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, unquote

from cloudmodel_dev.simulator.verifiers import AuthRejected, KeyPair
from cloudmodel_operator.providers.signing import RequestParts

ALGORITHM = "SDK-HMAC-SHA256"
MAX_SKEW = timedelta(minutes=15)
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"

_IAM = "Incorrect IAM authentication information"
# APIG gateway codes from Huawei Cloud's API Gateway error-code page.
BAD_AUTH = (401, "APIG.0301", _IAM)
TOKEN_EXPIRED = (401, "APIG.0307", "The token must be updated.")


def _reject(reason: tuple[int, str, str], detail: str) -> AuthRejected:
    status, code, message = reason
    return AuthRejected(status, code, f"{message}: {detail}" if detail else message)


@dataclass(frozen=True)
class IssuedToken:
    """An IAM token the simulator handed out."""

    username: str
    project: str | None
    expires_at: datetime
    value: str = field(repr=False, default="")


def _encode(text: str) -> str:
    return quote(text, safe="~")


def parse_authorization(value: str) -> tuple[str, list[str], str]:
    """`SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=hex` -> (AK, [a, b], hex)."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise _reject(BAD_AUTH, f"unsupported signing algorithm {algorithm or '(none)'}")
    fields: dict[str, str] = {}
    for item in rest.split(","):
        name, sep, content = item.strip().partition("=")
        if sep:
            fields[name] = content.strip()
    try:
        return fields["Access"], [h for h in fields["SignedHeaders"].split(";") if h], fields["Signature"]
    except KeyError as exc:
        raise _reject(BAD_AUTH, f"Authorization lacks {exc.args[0]}") from None


def canonical_uri(raw_path: str) -> str:
    uri = "/".join(_encode(segment) for segment in unquote(raw_path).split("/"))
    return uri if uri.endswith("/") else uri + "/"


def canonical_request(parts: RequestParts, signed_headers: list[str]) -> str:
    query = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted(parts.query))
    headers = "".join(f"{name}:{parts.headers[name].strip()}\n" for name in signed_headers)
    declared = parts.headers.get("x-sdk-content-sha256")
    if parts.body and declared == UNSIGNED_PAYLOAD:
        payload = UNSIGNED_PAYLOAD
    else:
        payload = hashlib.sha256(parts.body).hexdigest()
    return "\n".join(
        [parts.method, canonical_uri(parts.path), query, headers, ";".join(signed_headers), payload]
    )


def signature(secret: str, sdk_date: str, canonical: str) -> str:
    string_to_sign = f"{ALGORITHM}\n{sdk_date}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    return hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()


def access_key_of(parts: RequestParts) -> str | None:
    """The AK named in the Authorization header, if it parses (for lockout bookkeeping)."""
    try:
        return parse_authorization(parts.headers.get("authorization", ""))[0]
    except AuthRejected:
        return None


def verify_signature(parts: RequestParts, keys: Mapping[str, KeyPair], now: datetime) -> str:
    """Return the AK that signed `parts`, or raise `AuthRejected` (APIG.0301)."""
    authorization = parts.headers.get("authorization")
    if not authorization:
        raise _reject(BAD_AUTH, "neither Authorization nor X-Auth-Token is present")
    access_key, signed_headers, sent_signature = parse_authorization(authorization)
    key = keys.get(access_key)
    if key is None:
        raise _reject(BAD_AUTH, f"ak {access_key} not exist")
    sdk_date = parts.headers.get("x-sdk-date")
    if not sdk_date:
        raise _reject(BAD_AUTH, "X-Sdk-Date not found in header")
    if "x-sdk-date" not in signed_headers:
        raise _reject(BAD_AUTH, "X-Sdk-Date is not signed")
    try:
        sent = datetime.strptime(sdk_date, DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise _reject(BAD_AUTH, f"X-Sdk-Date {sdk_date!r} is not YYYYMMDDTHHMMSSZ") from None
    if abs(now - sent) > MAX_SKEW:
        raise _reject(BAD_AUTH, "verify aksk signature fail, X-Sdk-Date expired")
    missing = [name for name in signed_headers if name not in parts.headers]
    if missing:
        raise _reject(BAD_AUTH, f"signed headers absent from the request: {', '.join(missing)}")
    if key.security_token is not None and parts.headers.get("x-security-token") != key.security_token:
        raise _reject(BAD_AUTH, "verify security token fail")
    expected = signature(key.secret, sdk_date, canonical_request(parts, signed_headers))
    if not hmac.compare_digest(expected, sent_signature):
        raise _reject(BAD_AUTH, "verify aksk signature fail")
    return access_key


def verify_token(token: str, tokens: Mapping[str, IssuedToken], now: datetime) -> IssuedToken:
    """Return the issued token record for an `X-Auth-Token`, or raise `AuthRejected`."""
    issued = tokens.get(token)
    if issued is None:
        raise _reject(BAD_AUTH, "decrypt token fail")
    if now >= issued.expires_at:
        raise _reject(TOKEN_EXPIRED, "")
    return issued
