"""Baidu AI Cloud bce-auth-v1 verification.

Spec: authStringPrefix = bce-auth-v1/{AK}/{timestamp}/{expirationSeconds}; signingKey =
hex(HMAC-SHA256(SK, prefix)); CanonicalRequest = METHOD \\n UriEncodeExceptSlash(path) \\n
CanonicalQuery \\n CanonicalHeaders (no payload hash, no trailing newline); signature =
hex(HMAC-SHA256(signingKey, CanonicalRequest)); Authorization = prefix/{signedHeaders}/{signature}.
An empty signedHeaders means the default set: host, content-length, content-type, content-md5 and
every x-bce-* header.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, unquote

from cloudmodel_dev.simulator.verifiers import AuthRejected, KeyPair
from cloudmodel_operator.providers.signing import RequestParts

VERSION = "bce-auth-v1"
FUTURE_SKEW = timedelta(minutes=15)
DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
DEFAULT_HEADERS = frozenset({"host", "content-length", "content-type", "content-md5"})

# Codes and statuses from Baidu AI Cloud's public error-code table.
MISSING = (403, "AccessDenied", "Access denied.")
MALFORMED = (
    400,
    "InvalidHTTPAuthHeader",
    "The HTTP authorization header is invalid. Consult the service documentation for details.",
)
UNKNOWN_KEY = (403, "InvalidAccessKeyId", "The Access Key ID you provided does not exist in our records.")
MISMATCH = (
    400,
    "SignatureDoesNotMatch",
    "The request signature we calculated does not match the signature you provided. Check your Secret Access Key and signing method. Consult the service documentation for details.",
)
EXPIRED = (400, "RequestExpired", "Request has expired.")


def _reject(reason: tuple[int, str, str], detail: str = "") -> AuthRejected:
    status, code, message = reason
    return AuthRejected(status, code, f"{message} {detail}".strip())


def uri_encode(text: str, *, keep_slash: bool = False) -> str:
    return quote(text, safe="/" if keep_slash else "")


def parse_authorization(value: str) -> tuple[str, datetime, int, list[str], str, str]:
    """-> (AK, timestamp, expirationSeconds, signedHeaders, signature, authStringPrefix)."""
    pieces = value.strip().split("/")
    if len(pieces) != 6 or pieces[0] != VERSION:
        raise _reject(MALFORMED)
    _, access_key, timestamp, expiration, signed, sent_signature = pieces
    try:
        sent = datetime.strptime(timestamp, DATE_FORMAT).replace(tzinfo=UTC)
        seconds = int(expiration)
    except ValueError:
        raise _reject(MALFORMED) from None
    if not access_key or not sent_signature or seconds <= 0:
        raise _reject(MALFORMED)
    prefix = f"{VERSION}/{access_key}/{timestamp}/{expiration}"
    return access_key, sent, seconds, [h for h in signed.split(";") if h], sent_signature, prefix


def _header_names(parts: RequestParts, signed_headers: list[str]) -> list[str]:
    if signed_headers:
        return [name.strip().lower() for name in signed_headers]
    return [name for name in parts.headers if name in DEFAULT_HEADERS or name.startswith("x-bce-")]


def canonical_request(parts: RequestParts, signed_headers: list[str]) -> str:
    uri = uri_encode(unquote(parts.path), keep_slash=True)
    query = "&".join(
        sorted(f"{uri_encode(k)}={uri_encode(v)}" for k, v in parts.query if k.lower() != "authorization")
    )
    headers = []
    for name in _header_names(parts, signed_headers):
        value = parts.headers.get(name, "").strip()
        if value:
            headers.append(f"{uri_encode(name)}:{uri_encode(value)}")
    return "\n".join([parts.method, uri, query, "\n".join(sorted(headers))])


def signature(secret: str, prefix: str, canonical: str) -> str:
    signing_key = hmac.new(secret.encode(), prefix.encode(), hashlib.sha256).hexdigest()
    return hmac.new(signing_key.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def verify(parts: RequestParts, keys: Mapping[str, KeyPair], now: datetime) -> str:
    """Return the access key that signed `parts`, or raise `AuthRejected`."""
    authorization = parts.headers.get("authorization")
    if not authorization:
        raise _reject(MISSING)
    access_key, sent, seconds, signed_headers, sent_signature, prefix = parse_authorization(authorization)
    key = keys.get(access_key)
    if key is None:
        raise _reject(UNKNOWN_KEY)
    if now > sent + timedelta(seconds=seconds) or sent > now + FUTURE_SKEW:
        raise _reject(EXPIRED, f"Timestamp date is {sent.strftime(DATE_FORMAT)}.")
    missing = [name for name in signed_headers if not parts.headers.get(name.strip().lower())]
    if missing:
        raise _reject(MISMATCH, f"Signed headers absent from the request: {', '.join(missing)}.")
    expected = signature(key.secret, prefix, canonical_request(parts, signed_headers))
    if not hmac.compare_digest(expected, sent_signature):
        raise _reject(MISMATCH)
    return access_key
