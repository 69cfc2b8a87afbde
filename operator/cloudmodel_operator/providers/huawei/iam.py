"""IAM tokens for password credentials: fetched once, shared, refreshed an hour before expiry."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from cloudmodel_operator.providers.base import ErrorClass, ProviderError
from cloudmodel_operator.providers.http import fetch_json
from cloudmodel_operator.providers.huawei.errors import error_from
from cloudmodel_operator.redact import register_secret

REFRESH_BEFORE = timedelta(hours=1)
DEFAULT_LIFETIME = timedelta(hours=24)


@dataclass(frozen=True)
class TokenKey:
    iam_url: str
    domain: str
    user: str
    project_id: str


@dataclass(frozen=True)
class Token:
    value: str
    expires_at: datetime


# A cached token belongs to the user *and the password* that fetched it: any tenant may name the
# same IAM user in a Secret of its own, and only the right password may use the token.
_Entry = tuple[TokenKey, str]  # (key, digest of the password)


def _entry(key: TokenKey, password: str) -> _Entry:
    return key, hashlib.sha256(password.encode()).hexdigest()


class TokenCache:
    def __init__(self) -> None:
        self._tokens: dict[_Entry, Token] = {}
        self._locks: dict[_Entry, asyncio.Lock] = {}

    def invalidate(self, key: TokenKey) -> None:
        for entry in [e for e in self._tokens if e[0] == key]:
            del self._tokens[entry]

    async def get(
        self, client: httpx.AsyncClient, key: TokenKey, password: str, *, now: datetime | None = None
    ) -> str:
        entry = _entry(key, password)
        lock = self._locks.setdefault(entry, asyncio.Lock())
        async with lock:  # concurrent observes share one fetch
            moment = now or datetime.now(UTC)
            token = self._tokens.get(entry)
            if token is None or token.expires_at - REFRESH_BEFORE <= moment:
                token = await fetch_token(client, key, password, now=moment)
                self._tokens[entry] = token
            return token.value


async def fetch_token(client: httpx.AsyncClient, key: TokenKey, password: str, *, now: datetime) -> Token:
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": key.user, "password": password, "domain": {"name": key.domain}}
                },
            },
            "scope": {"project": {"id": key.project_id}},
        }
    }
    request = client.build_request("POST", f"{key.iam_url.rstrip('/')}/v3/auth/tokens", json=body)
    body, response = await fetch_json(client, request, error_from)
    token = response.headers.get("x-subject-token")
    if not token:
        raise ProviderError(ErrorClass.INVALID_RESPONSE, "IAM answered without an X-Subject-Token header")
    # A credential no Secret holds: masked from now on wherever it shows up (a provider echoing
    # its X-Auth-Token header, a log line quoting one).
    register_secret(token)
    expires = now + DEFAULT_LIFETIME
    try:
        raw = body.get("token", {}).get("expires_at")
        if raw:
            expires = datetime.fromisoformat(str(raw).replace("Z", "+00:00")).astimezone(UTC)
    except (ValueError, AttributeError):
        pass  # the header is what matters; assume the documented 24 h lifetime
    return Token(token, expires)
