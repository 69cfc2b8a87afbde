"""`alibaba-hologres`: Hologres `GetInstanceModel` (ROA, version 2022-06-01)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar
from urllib.parse import quote

import httpx

from cloudmodel_operator.api.observation import Observation
from cloudmodel_operator.providers.alibaba import client
from cloudmodel_operator.providers.alibaba.mapping import map_instance_model
from cloudmodel_operator.providers.alibaba.models import InstanceModel
from cloudmodel_operator.providers.base import Credentials, Provider, Target
from cloudmodel_operator.providers.http import validate

ACTION = "GetInstanceModel"
VERSION = "2022-06-01"
# The hosts Alibaba publishes for this API: the endpoint map of its own SDK
# (alibabacloud-hologram20220601 1.11.1, `Client._endpoint_map`), https as the SDK calls them.
REGIONS = (
    "ap-northeast-1", "ap-northeast-2", "ap-southeast-1", "ap-southeast-3", "ap-southeast-5",
    "cn-beijing", "cn-chengdu", "cn-hangzhou", "cn-hongkong", "cn-north-2-gov-1",
    "cn-shanghai", "cn-shanghai-finance-1", "cn-shenzhen", "cn-shenzhen-finance-1",
    "cn-wulanchabu", "cn-zhangjiakou", "eu-central-1", "me-east-1", "na-south-1",
    "us-east-1", "us-west-1",
)  # fmt: skip
ENDPOINTS = {region: f"https://hologram.{region}.aliyuncs.com" for region in REGIONS}


class HologresProvider(Provider):
    name: ClassVar[str] = "alibaba-hologres"
    credential_keys: ClassVar[tuple[str, ...]] = client.CREDENTIAL_KEYS
    official_endpoints: ClassVar[Mapping[str, str]] = ENDPOINTS

    def validate_credentials(self, credentials: Credentials) -> None:
        client.validate_credentials(credentials)

    async def fetch(
        self, http: httpx.AsyncClient, base_url: str, target: Target, credentials: Credentials
    ) -> Observation:
        instance = quote(target.instance_id or "", safe="")
        body = await client.call(
            http,
            credentials,
            method="GET",
            url=f"{base_url.rstrip('/')}/api/v1/instances/{instance}/getInstanceModel",
            query=None,
            action=ACTION,
            version=VERSION,
        )
        return map_instance_model(validate(InstanceModel, body, ACTION))
