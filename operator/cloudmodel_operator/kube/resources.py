"""Reads and writes of CloudModelServices and their credential Secrets."""

from __future__ import annotations

import asyncio
import base64
import binascii
from typing import Any, cast

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from cloudmodel_operator.api.spec import GROUP, PLURAL, VERSION
from cloudmodel_operator.providers.base import Credentials, CredentialsError
from cloudmodel_operator.redact import register_secret


class ResourceGone(Exception):
    """The CloudModelService was deleted while we worked on it."""


class KubeResources:
    def __init__(self, api: client.ApiClient) -> None:
        self.api = api
        self.objects = client.CustomObjectsApi(api)
        self.core = client.CoreV1Api(api)
        self.status_writes = 0

    async def replace_status(self, namespace: str, name: str, status: dict[str, Any]) -> dict[str, Any]:
        """Write the whole status through the /status subresource (a JSON patch replacing it)."""
        body = [{"op": "add", "path": "/status", "value": status}]

        def call() -> dict[str, Any]:
            # kubernetes<36 sends every custom-object status patch as a merge patch and has no
            # _content_type; this one is a JSON patch (it replaces the whole status), so it is sent
            # as such through the generic call.
            result = cast(
                dict[str, Any],
                self.api.call_api(
                    "/apis/{group}/{version}/namespaces/{namespace}/{plural}/{name}/status",
                    "PATCH",
                    path_params={
                        "group": GROUP,
                        "version": VERSION,
                        "namespace": namespace,
                        "plural": PLURAL,
                        "name": name,
                    },
                    header_params={
                        "Content-Type": "application/json-patch+json",
                        "Accept": "application/json",
                    },
                    body=body,
                    response_type="object",
                    auth_settings=["BearerToken"],
                    _return_http_data_only=True,
                ),
            )
            return result

        try:
            result = await asyncio.to_thread(call)
        except ApiException as exc:
            if exc.status == 404:
                raise ResourceGone(f"{namespace}/{name}") from exc
            raise
        self.status_writes += 1
        return result

    async def read_credentials(self, namespace: str, secret_name: str) -> Credentials:
        """The Secret's keys as text; CredentialsError says precisely what is wrong."""

        def call() -> Any:
            return self.core.read_namespaced_secret(secret_name, namespace)

        try:
            secret = await asyncio.to_thread(call)
        except ApiException as exc:
            if exc.status == 404:
                raise CredentialsError(f"Secret {namespace}/{secret_name} not found") from exc
            if exc.status == 403:
                raise CredentialsError(f"the operator may not read Secret {namespace}/{secret_name}") from exc
            raise
        values: dict[str, str] = {}
        for key, encoded in (secret.data or {}).items():
            try:
                values[key] = base64.b64decode(encoded).decode("utf-8").strip()
            except (binascii.Error, UnicodeDecodeError) as exc:
                raise CredentialsError(
                    f"Secret {namespace}/{secret_name} key '{key}' is not UTF-8 text"
                ) from exc
        if not values:
            raise CredentialsError(f"Secret {namespace}/{secret_name} has no data")
        credentials = Credentials(values)
        for secret in credentials.secret_values():
            register_secret(secret)
        return credentials
