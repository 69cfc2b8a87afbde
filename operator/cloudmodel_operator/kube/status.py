"""Status writes: the whole status through the /status subresource, never the spec."""

from __future__ import annotations

from typing import Any

from cloudmodel_operator.kube import paths
from cloudmodel_operator.kube.client import JSON_PATCH, KubeClient, KubeError, NotFound

FIELD_MANAGER = "cloudmodel-operator"


class ResourceGone(Exception):
    """The CloudModelService was deleted (or deleted and re-created) while we worked on it."""


class StatusRejected(Exception):
    """The API server refused the status itself (too large, or invalid for the CRD schema)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class StatusWriter:
    def __init__(self, client: KubeClient, identity: str | None = None) -> None:
        self.client = client
        # Each replica writes under its own field manager, so `metadata.managedFields` says which
        # replica wrote a status last (a whole-status write moves every field to its writer).
        self.field_manager = f"{FIELD_MANAGER}/{identity}"[:128] if identity else FIELD_MANAGER

    async def write(
        self, namespace: str, name: str, uid: str, status: dict[str, Any], *, within: float | None = None
    ) -> str:
        """Replace the status of the object with this uid; returns the new resourceVersion.

        The `test` of the uid makes a write meant for a deleted object fail instead of landing on
        a new object that happens to have the same name.
        """
        body = [
            {"op": "test", "path": "/metadata/uid", "value": uid},
            {"op": "add", "path": "/status", "value": status},
        ]
        try:
            result = await self.client.patch(
                paths.cms_status(namespace, name),
                body,
                content_type=JSON_PATCH,
                params={"fieldManager": self.field_manager},
                within=within,
            )
        except NotFound as exc:
            raise ResourceGone(f"{namespace}/{name}") from exc
        except KubeError as exc:
            if exc.status == 422 and "test" in exc.message.lower() and "uid" in exc.message.lower():
                raise ResourceGone(f"{namespace}/{name}") from exc
            if exc.status in (413, 422) or (exc.status == 500 and "too large" in exc.message.lower()):
                raise StatusRejected(exc.status, exc.message) from exc
            raise
        return str((result.get("metadata") or {}).get("resourceVersion", ""))
