"""`huawei-modelarts`: ModelArts service details, `GET /v1/{project_id}/services/{service_id}`.

Credentials, in order of preference: AK/SK (`accessKey`, `secretKey`, optional
`securityToken`) signing every request; a ready IAM `token`; or IAM user credentials
(`domainName`, `username`, `password`) exchanged for a cached token.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar
from urllib.parse import quote

import httpx

from cloudmodel_operator.api.observation import Observation
from cloudmodel_operator.providers.base import (
    Credentials,
    CredentialsError,
    Provider,
    ProviderError,
    Target,
)
from cloudmodel_operator.providers.http import fetch_json, validate
from cloudmodel_operator.providers.huawei.errors import TOKEN_EXPIRED, error_from
from cloudmodel_operator.providers.huawei.iam import TokenCache, TokenKey
from cloudmodel_operator.providers.huawei.mapping import map_service
from cloudmodel_operator.providers.huawei.models import ServiceDetails
from cloudmodel_operator.providers.huawei.signer import sign
from cloudmodel_operator.providers.signing import RequestParts

# Regions whose endpoint differs from modelarts.{region}.myhuaweicloud.com (SDK region table).
HOST_EXCEPTIONS = {"ap-southeast-1": "https://modelarts.ap-southeast-1.myhuaweicloud.cn"}


class ModelArtsProvider(Provider):
    name: ClassVar[str] = "huawei-modelarts"
    credential_keys: ClassVar[tuple[str, ...]] = (
        "accessKey", "secretKey", "securityToken", "token", "domainName", "username", "password",
    )  # fmt: skip

    def __init__(self) -> None:
        self.tokens = TokenCache()

    def default_base_url(self, region: str) -> str:
        return HOST_EXCEPTIONS.get(region, f"https://modelarts.{region}.myhuaweicloud.com")

    def iam_url(self, region: str, base_url: str) -> str:
        # With an endpoint override IAM is reached through the same base URL (one gateway/simulator).
        if base_url.rstrip("/") != self.default_base_url(region):
            return base_url
        return f"https://iam.{region}.myhuaweicloud.com"

    def validate_credentials(self, credentials: Credentials) -> None:
        if credentials.get("accessKey") or credentials.get("secretKey"):
            for key in ("accessKey", "secretKey"):
                if credentials.get(key) is None:
                    raise CredentialsError(
                        f"credentials have no '{key}' key (AK/SK needs accessKey and secretKey)"
                    )
            return
        if credentials.get("token"):
            return
        missing = [k for k in ("domainName", "username", "password") if credentials.get(k) is None]
        if missing:
            raise CredentialsError(
                "credentials need accessKey and secretKey, or token, or domainName, username and password "
                f"(missing '{missing[0]}')"
            )

    async def observe(
        self, http: httpx.AsyncClient, base_url: str, target: Target, credentials: Credentials
    ) -> Observation:
        project = target.project_id or ""
        url = f"{base_url.rstrip('/')}/v1/{quote(project, safe='')}/services/{quote(target.service_id or '', safe='')}"
        request = http.build_request("GET", url, headers={"Content-Type": "application/json"})
        token_key: TokenKey | None = None
        if credentials.get("accessKey"):
            request.headers.update(
                sign(
                    RequestParts.from_httpx(request),
                    credentials.require("accessKey"),
                    credentials.require("secretKey"),
                    credentials.get("securityToken"),
                    now=datetime.now(UTC),
                )
            )
        elif credentials.get("token"):
            request.headers["X-Auth-Token"] = credentials.require("token")
        else:
            token_key = TokenKey(
                self.iam_url(target.region, base_url),
                credentials.require("domainName"),
                credentials.require("username"),
                project,
            )
            request.headers["X-Auth-Token"] = await self.tokens.get(
                http, token_key, credentials.require("password")
            )
        try:
            body, response = await fetch_json(http, request, error_from)
        except ProviderError as error:
            if token_key is not None and (error.code == TOKEN_EXPIRED or error.http_status == 401):
                self.tokens.invalidate(token_key)  # the next poll fetches a fresh token
            raise
        observation = map_service(validate(ServiceDetails, body, "service details"))
        observation.requestId = response.headers.get("x-request-id")
        return observation
