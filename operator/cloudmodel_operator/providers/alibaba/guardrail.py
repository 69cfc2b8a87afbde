"""`alibaba-guardrail`: AI guardrails `GetModelInstanceInfo` (RPC, version 2024-07-01).

The API answers HTTP 200 for its own errors: `Success: false` or a `Code` other than "00000"
is an error whatever the status line says.
"""

from __future__ import annotations

from typing import ClassVar

import httpx

from cloudmodel_operator.api.observation import Observation
from cloudmodel_operator.providers.alibaba import client
from cloudmodel_operator.providers.alibaba.mapping import GUARDRAIL_OK, map_model_instance
from cloudmodel_operator.providers.alibaba.models import ModelInstanceInfo
from cloudmodel_operator.providers.base import Credentials, Provider, ProviderError, Target
from cloudmodel_operator.providers.http import validate

ACTION = "GetModelInstanceInfo"
VERSION = "2024-07-01"
# The SDK (alibabacloud-rai20240701) has no regional endpoint map: it calls the central host.
HOST = "https://rai.aliyuncs.com"


class GuardrailProvider(Provider):
    name: ClassVar[str] = "alibaba-guardrail"
    credential_keys: ClassVar[tuple[str, ...]] = client.CREDENTIAL_KEYS

    def default_base_url(self, region: str) -> str:
        return HOST

    def validate_credentials(self, credentials: Credentials) -> None:
        client.validate_credentials(credentials)

    async def observe(
        self, http: httpx.AsyncClient, base_url: str, target: Target, credentials: Credentials
    ) -> Observation:
        body = await client.call(
            http,
            credentials,
            method="POST",
            url=f"{base_url.rstrip('/')}/",
            query={"ModelInstanceId": target.model_instance_id or "", "SceneType": str(target.scene_type)},
            action=ACTION,
            version=VERSION,
        )
        info = validate(ModelInstanceInfo, body, ACTION)
        if info.Success is False or (info.Code is not None and info.Code != GUARDRAIL_OK):
            status = info.HttpStatusCode or 200
            raise ProviderError(
                client.classify(info.Code, status),
                (info.Message or "the request failed")[: client.MAX_MESSAGE],
                code=info.Code,
                http_status=status,
                request_id=info.RequestId,
            )
        return map_model_instance(info)
