"""IAM password credentials: one token fetch, shared, refreshed before it expires."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from cloudmodel_operator.providers.base import ErrorClass, ProviderError
from cloudmodel_operator.providers.huawei.iam import TokenCache, TokenKey
from cloudmodel_operator.redact import redact

KEY = TokenKey("https://iam.cn-north-4.myhuaweicloud.com", "unit-domain", "unit-user", "project-1")
PASSWORD = "unit-iam-password"
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


class Iam:
    """An IAM token endpoint that issues numbered tokens valid for `lifetime`."""

    def __init__(self, lifetime: timedelta = timedelta(hours=24), status: int = 201) -> None:
        self.lifetime = lifetime
        self.status = status
        self.requests: list[httpx.Request] = []
        self.now = T0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.status >= 400:
            return httpx.Response(
                self.status, json={"error": {"code": "IAM.0001", "message": "wrong password"}}
            )
        expires = (self.now + self.lifetime).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
        return httpx.Response(
            self.status,
            json={"token": {"expires_at": expires}},
            headers={"X-Subject-Token": f"token-{len(self.requests)}"},
        )


async def test_the_token_request_follows_the_iam_password_flow() -> None:
    iam = Iam()
    async with httpx.AsyncClient(transport=httpx.MockTransport(iam)) as client:
        assert await TokenCache().get(client, KEY, PASSWORD, now=T0) == "token-1"
    [request] = iam.requests
    assert (request.method, str(request.url)) == (
        "POST",
        "https://iam.cn-north-4.myhuaweicloud.com/v3/auth/tokens",
    )
    auth = json.loads(request.content)["auth"]
    assert auth["identity"]["methods"] == ["password"]
    assert auth["identity"]["password"]["user"] == {
        "name": "unit-user",
        "password": PASSWORD,
        "domain": {"name": "unit-domain"},
    }
    assert auth["scope"] == {"project": {"id": "project-1"}}


async def test_the_token_is_reused_until_an_hour_before_it_expires() -> None:
    iam = Iam(lifetime=timedelta(hours=24))
    cache = TokenCache()
    async with httpx.AsyncClient(transport=httpx.MockTransport(iam)) as client:
        assert await cache.get(client, KEY, PASSWORD, now=T0) == "token-1"
        assert await cache.get(client, KEY, PASSWORD, now=T0 + timedelta(hours=22, minutes=59)) == "token-1"
        assert await cache.get(client, KEY, PASSWORD, now=T0 + timedelta(hours=23)) == "token-2"
    assert len(iam.requests) == 2


async def test_concurrent_callers_share_one_fetch() -> None:
    iam = Iam()
    cache = TokenCache()
    async with httpx.AsyncClient(transport=httpx.MockTransport(iam)) as client:
        tokens = await asyncio.gather(*(cache.get(client, KEY, PASSWORD, now=T0) for _ in range(10)))
    assert set(tokens) == {"token-1"}
    assert len(iam.requests) == 1


async def test_invalidate_forces_a_new_token() -> None:
    iam = Iam()
    cache = TokenCache()
    async with httpx.AsyncClient(transport=httpx.MockTransport(iam)) as client:
        await cache.get(client, KEY, PASSWORD, now=T0)
        cache.invalidate(KEY)
        assert await cache.get(client, KEY, PASSWORD, now=T0) == "token-2"


async def test_a_refused_password_is_an_auth_error_that_never_shows_the_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with httpx.AsyncClient(transport=httpx.MockTransport(Iam(status=401))) as client:
        with pytest.raises(ProviderError) as info:
            await TokenCache().get(client, KEY, PASSWORD, now=T0)
    assert info.value.error_class is ErrorClass.AUTH
    assert PASSWORD not in str(info.value)
    assert PASSWORD not in caplog.text


async def test_an_answer_without_the_token_header_is_invalid() -> None:
    def no_header(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, json={"token": {}})

    async with httpx.AsyncClient(transport=httpx.MockTransport(no_header)) as client:
        with pytest.raises(ProviderError) as info:
            await TokenCache().get(client, KEY, PASSWORD, now=T0)
    assert info.value.error_class is ErrorClass.INVALID_RESPONSE


async def test_a_token_is_shared_only_by_callers_with_the_same_password() -> None:
    # Any tenant can name the same IAM user in a Secret of its own; only the one with the right
    # password may use the token it fetched. A wrong password must ask IAM, and be refused there.
    iam = Iam()
    cache = TokenCache()
    async with httpx.AsyncClient(transport=httpx.MockTransport(iam)) as client:
        assert await cache.get(client, KEY, PASSWORD, now=T0) == "token-1"
        assert await cache.get(client, KEY, "a-guessed-password", now=T0) == "token-2"
        assert await cache.get(client, KEY, PASSWORD, now=T0) == "token-1"
    sent = [json.loads(r.content)["auth"]["identity"]["password"]["user"]["password"] for r in iam.requests]
    assert sent == [PASSWORD, "a-guessed-password"]


async def test_a_fetched_token_is_masked_wherever_it_shows_up() -> None:
    # The token is a credential the Secret does not hold: a provider echoing its X-Auth-Token
    # header (or a log line quoting it) must not carry it into a status, an Event or a log.
    issued = "MIIunit-" + "x7Q" * 30

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, json={"token": {"expires_at": "2026-11-21T08:00:00.000000Z"}},
                              headers={"X-Subject-Token": issued})  # fmt: skip

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        assert await TokenCache().get(client, KEY, PASSWORD, now=T0) == issued
    assert issued not in redact(f"request failed: X-Auth-Token: {issued}")
