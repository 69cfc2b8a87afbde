"""`alibaba-hologres`: Hologres `GetInstanceModel` (ROA, version 2022-06-01)."""

from __future__ import annotations

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


class HologresProvider(Provider):
    name: ClassVar[str] = "alibaba-hologres"
    credential_keys: ClassVar[tuple[str, ...]] = client.CREDENTIAL_KEYS

    def default_base_url(self, region: str) -> str:
        return f"https://hologram.{region}.aliyuncs.com"

    def validate_credentials(self, credentials: Credentials) -> None:
        client.validate_credentials(credentials)

    async def observe(
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
