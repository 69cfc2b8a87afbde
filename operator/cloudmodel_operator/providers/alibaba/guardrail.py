"""`alibaba-guardrail`: AI guardrails `GetModelInstanceInfo` (RPC, version 2024-07-01).

The API answers HTTP 200 for its own errors: `Success: false` or a `Code` other than "00000"
is an error whatever the status line says.
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx

from cloudmodel_operator.api.observation import Observation
from cloudmodel_operator.providers.alibaba import client
from cloudmodel_operator.providers.alibaba.mapping import GUARDRAIL_OK, map_model_instance
from cloudmodel_operator.providers.alibaba.models import ModelInstanceInfo
from cloudmodel_operator.providers.base import Credentials, Provider, Target
from cloudmodel_operator.providers.http import Reply, validate

ACTION = "GetModelInstanceInfo"
VERSION = "2024-07-01"
# The SDK (alibabacloud-rai20240701 2.0.0) has no endpoint map and an empty endpoint rule, which
# alibabacloud-endpoint-util turns into the central host. No published regional list was found.
HOST = "https://rai.aliyuncs.com"


class GuardrailProvider(Provider):
    name: ClassVar[str] = "alibaba-guardrail"
    credential_keys: ClassVar[tuple[str, ...]] = client.CREDENTIAL_KEYS
    global_endpoint: ClassVar[str | None] = HOST

    def validate_credentials(self, credentials: Credentials) -> None:
        client.validate_credentials(credentials)

    async def fetch(
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
        # The API answers HTTP 200 for its own errors: check the result fields before the model,
        # so an error body with odd values is still classified by its code.
        code = body.get("Code")
        if body.get("Success") is False or (code is not None and str(code) != GUARDRAIL_OK):
            raise client.error_from(body, _status_of(body))
        return map_model_instance(validate(ModelInstanceInfo, body, ACTION))


def _status_of(body: dict[str, Any]) -> Reply:
    """The HTTP status the body says it has (`HttpStatusCode`), as `error_from` reads a reply."""
    status = body.get("HttpStatusCode")
    number = (
        status if isinstance(status, int) and not isinstance(status, bool) and 100 <= status <= 599 else 200
    )
    return Reply(number, "", httpx.Headers(), b"")
