"""ACS3-HMAC-SHA256 (Alibaba Cloud OpenAPI V3 signature) verification.

Spec: CanonicalRequest = METHOD \\n CanonicalURI \\n CanonicalQuery \\n CanonicalHeaders \\n
SignedHeaders \\n hex(sha256(body)); StringToSign = "ACS3-HMAC-SHA256\\n" + hex(sha256(CR));
Signature = hex(HMAC-SHA256(secret, StringToSign)). The URI is the encoded path as sent; query
keys and values are RFC 3986 encoded and sorted; every `x-acs-*` header and `host` must be signed.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from cloudmodel_dev.simulator.verifiers import AuthRejected, KeyPair
from cloudmodel_operator.providers.signing import RequestParts

ALGORITHM = "ACS3-HMAC-SHA256"
MAX_SKEW = timedelta(minutes=15)
DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

# Codes and statuses from Alibaba Cloud's public error-code pages.
INCOMPLETE = (400, "IncompleteSignature", "The request signature does not conform to Aliyun standards.")
MISMATCH = (400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation.")
UNKNOWN_KEY = (404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
EXPIRED = (400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
BAD_TOKEN = (
    400,
    "InvalidSecurityToken.MismatchWithAccessKey",
    "Specified security token and access key do not match.",
)


def _reject(reason: tuple[int, str, str], detail: str = "") -> AuthRejected:
    status, code, message = reason
    return AuthRejected(status, code, f"{message} {detail}".strip())


def _encode(text: str) -> str:
    return quote(text, safe="~")


def parse_authorization(value: str) -> tuple[str, list[str], str]:
    """`ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a;b,Signature=hex` -> (AK, [a, b], hex)."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise _reject(INCOMPLETE, f"Unsupported signature algorithm {algorithm or '(none)'}.")
    fields: dict[str, str] = {}
    for item in rest.split(","):
        name, sep, content = item.strip().partition("=")
        if sep:
            fields[name] = content
    try:
        credential, signed, signature = fields["Credential"], fields["SignedHeaders"], fields["Signature"]
    except KeyError as exc:
        raise _reject(INCOMPLETE, f"Authorization lacks {exc.args[0]}.") from None
    if not credential or not signature:
        raise _reject(INCOMPLETE)
    return credential, [name for name in signed.split(";") if name], signature


def canonical_request(parts: RequestParts, signed_headers: list[str]) -> str:
    query = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted(parts.query))
    headers = "".join(f"{name}:{parts.headers[name].strip()}\n" for name in signed_headers)
    payload = hashlib.sha256(parts.body).hexdigest()
    return "\n".join([parts.method, parts.path or "/", query, headers, ";".join(signed_headers), payload])


def signature(secret: str, canonical: str) -> str:
    string_to_sign = f"{ALGORITHM}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    return hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()


def _check_date(parts: RequestParts, now: datetime) -> None:
    raw = parts.headers.get("x-acs-date")
    if not raw:
        raise _reject(INCOMPLETE, "Header x-acs-date is missing.")
    try:
        sent = datetime.strptime(raw, DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise _reject(INCOMPLETE, f"Header x-acs-date {raw!r} is not yyyy-MM-ddTHH:mm:ssZ.") from None
    if abs(now - sent) > MAX_SKEW:
        raise _reject(EXPIRED, f"The x-acs-date {raw} is more than 15 minutes from the server time.")


def verify(parts: RequestParts, keys: Mapping[str, KeyPair], now: datetime) -> str:
    """Return the access key id that signed `parts`, or raise `AuthRejected`."""
    authorization = parts.headers.get("authorization")
    if not authorization:
        raise _reject(INCOMPLETE, "The Authorization header is missing.")
    access_key, signed_headers, sent_signature = parse_authorization(authorization)
    key = keys.get(access_key)
    if key is None:
        raise _reject(UNKNOWN_KEY)
    _check_date(parts, now)
    must_sign = {"host"} | {name for name in parts.headers if name.startswith("x-acs-")}
    unsigned = sorted(must_sign - set(signed_headers))
    if unsigned:
        raise _reject(INCOMPLETE, f"Headers not signed: {', '.join(unsigned)}.")
    missing = [name for name in signed_headers if name not in parts.headers]
    if missing:
        raise _reject(INCOMPLETE, f"Signed headers absent from the request: {', '.join(missing)}.")
    declared_hash = parts.headers.get("x-acs-content-sha256")
    if declared_hash is not None and declared_hash != hashlib.sha256(parts.body).hexdigest():
        raise _reject(MISMATCH, "x-acs-content-sha256 does not match the body.")
    if key.security_token is not None and parts.headers.get("x-acs-security-token") != key.security_token:
        raise _reject(BAD_TOKEN)
    expected = signature(key.secret, canonical_request(parts, signed_headers))
    if not hmac.compare_digest(expected, sent_signature):
        raise _reject(MISMATCH)
    return access_key
