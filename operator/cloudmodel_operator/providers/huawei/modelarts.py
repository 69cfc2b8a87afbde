"""`huawei-modelarts`: ModelArts service details, `GET /v1/{project_id}/services/{service_id}`.

Credentials, in order of preference: AK/SK (`accessKey`, `secretKey`, optional
`securityToken`) signing every request; a ready IAM `token`; or IAM user credentials
(`domainName`, `username`, `password`) exchanged for a cached token.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import ClassVar
from urllib.parse import quote

import httpx

from cloudmodel_operator.api.observation import Observation
from cloudmodel_operator.providers.base import (
    Credentials,
    CredentialsError,
    ErrorClass,
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

# The hosts Huawei Cloud publishes for these APIs: its SDK's region tables (huaweicloudsdkmodelarts
# 3.1.219 `v1/region/modelarts_region.py`, huaweicloudsdkiam 3.1.219 `v3/region/iam_region.py`).
MODELARTS_REGIONS = (
    "af-north-1", "af-south-1", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
    "cn-east-3", "cn-east-4", "cn-north-1", "cn-north-11", "cn-north-12", "cn-north-2", "cn-north-4",
    "cn-north-9", "cn-south-1", "cn-southwest-2", "cn-southwest-3", "la-north-2", "la-south-2",
    "me-east-1", "sa-brazil-1", "tr-west-1",
)  # fmt: skip
MODELARTS_ENDPOINTS = {
    region: f"https://modelarts.{region}.myhuaweicloud.com" for region in MODELARTS_REGIONS
} | {"ap-southeast-1": "https://modelarts.ap-southeast-1.myhuaweicloud.cn"}
IAM_REGIONS = (
    "ae-ad-1", "af-south-1", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
    "cn-east-2", "cn-east-3", "cn-east-4", "cn-east-5", "cn-north-1", "cn-north-12", "cn-north-2",
    "cn-north-4", "cn-north-9", "cn-south-1", "cn-south-2", "cn-southwest-2", "eu-west-0",
    "la-north-2", "la-south-2", "me-east-1", "my-kualalumpur-1", "na-mexico-1", "ru-moscow-1",
    "sa-brazil-1", "tr-west-1",
)  # fmt: skip
IAM_ENDPOINTS = {region: f"https://iam.{region}.myhuaweicloud.com" for region in IAM_REGIONS} | {
    "eu-west-101": "https://iam.eu-west-101.myhuaweicloud.eu"
}


class ModelArtsProvider(Provider):
    name: ClassVar[str] = "huawei-modelarts"
    credential_keys: ClassVar[tuple[str, ...]] = (
        "accessKey", "secretKey", "securityToken", "token", "domainName", "username", "password",
    )  # fmt: skip

    official_endpoints: ClassVar[Mapping[str, str]] = MODELARTS_ENDPOINTS

    def __init__(self) -> None:
        self.tokens = TokenCache()

    def iam_url(self, base_url: str) -> str:
        """Where the IAM password goes: the official IAM host of the official ModelArts host's
        region; for a base URL the operator was started to allow (`--allow-endpoint`), that same
        gateway. Never a host derived from anything else in the spec."""
        base = base_url.rstrip("/")
        region = next((r for r, url in MODELARTS_ENDPOINTS.items() if url == base), None)
        if region is None:
            return base
        iam = IAM_ENDPOINTS.get(region)
        if iam is None:
            raise ProviderError(
                ErrorClass.PERMANENT,
                f"Huawei Cloud publishes no IAM endpoint for region {region}: use AK/SK or token credentials",
            )
        return iam

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

    async def fetch(
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
                self.iam_url(base_url),
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
