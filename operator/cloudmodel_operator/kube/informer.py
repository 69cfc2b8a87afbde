"""List, then watch, one kind of object, forever; hand every change to a handler.

The shape is client-go's reflector: list in pages, tell the handler which objects exist, watch
from the list's resourceVersion (with bookmarks, so a quiet watch still advances), re-watch from
the last seen version when the server ends the stream, and list again only when the version is
too old (410) or the watch broke in a way that may have lost events. Errors back off with jitter
and are logged once per outage, not once per retry.

A resource whose CRD is missing (404) is treated as an empty list: when the CRD is deleted its
objects are gone too, and the informer picks them up again once the CRD is reinstalled.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from cloudmodel_operator.kube.client import (
    METADATA_ONLY,
    METADATA_ONLY_LIST,
    Gone,
    KubeClient,
    KubeError,
    KubeUnavailable,
    NotFound,
)

logger = logging.getLogger(__name__)


class InformerHandler(Protocol):
    """Receives the informer's view of the objects (all calls come from one task, in order)."""

    def relist_begin(self, scope: str | None) -> None:
        """A full listing of `scope` (a namespace, or None for all) starts."""

    def upsert(self, obj: dict[str, Any]) -> None:
        """An object exists in this version (from a listing or an ADDED/MODIFIED event)."""

    def delete(self, obj: dict[str, Any]) -> None:
        """An object was deleted."""

    def relist_end(self, scope: str | None) -> None:
        """The listing is complete: objects of `scope` not upserted since `relist_begin` are gone."""


@dataclass(frozen=True)
class Backoff:
    initial: float = 0.8
    maximum: float = 30.0
    factor: float = 2.0

    def delay(self, attempt: int) -> float:
        base = min(self.maximum, self.initial * self.factor ** max(attempt - 1, 0))
        return base * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not security


class Informer:
    def __init__(
        self,
        client: KubeClient,
        path: str,
        handler: InformerHandler,
        *,
        scope: str | None = None,
        what: str = "objects",
        page_size: int = 500,
        metadata_only: bool = False,
        params: Mapping[str, str] | None = None,
        backoff: Backoff = Backoff(),
    ) -> None:
        self.client = client
        self.path = path
        self.handler = handler
        self.scope = scope
        self.what = what
        self.page_size = page_size
        self.metadata_only = metadata_only
        self.params = dict(params or {})
        self.backoff = backoff
        self.synced = asyncio.Event()
        self.resource_version: str | None = None
        self._failures = 0
        self._outage_logged = False

    async def run(self) -> None:
        """List and watch until cancelled."""
        while True:
            try:
                if self.resource_version is None:
                    await self._list()
                await self._watch()
                self._recovered()
            except asyncio.CancelledError:
                raise
            except Gone:
                logger.debug(
                    "%s: resourceVersion %s too old; listing again", self.what, self.resource_version
                )
                self.resource_version = None
            except NotFound:
                # The CRD is not installed (or was deleted with all its objects).
                self._failed("the resource is not served by the API server (is the CRD installed?)")
                self.handler.relist_begin(self.scope)
                self.handler.relist_end(self.scope)
                self.synced.set()
                self.resource_version = None
                await asyncio.sleep(self.backoff.delay(self._failures))
            except KubeUnavailable as exc:
                # The server went away; the version we saw is still good for the next watch
                # (if it is too old by then, the server says 410 and we list again).
                self._failed(str(exc))
                await asyncio.sleep(self.backoff.delay(self._failures))
            except KubeError as exc:
                self._failed(str(exc))
                self.resource_version = None
                await asyncio.sleep(self.backoff.delay(self._failures))

    def _failed(self, why: str) -> None:
        self._failures += 1
        if not self._outage_logged:
            logger.warning("cannot list/watch %s: %s; retrying with backoff", self.what, why)
            self._outage_logged = True
        else:
            logger.debug("still cannot list/watch %s: %s", self.what, why)

    def _recovered(self) -> None:
        if self._outage_logged:
            logger.info("listing and watching %s works again", self.what)
        self._outage_logged = False
        self._failures = 0

    async def _list(self) -> None:
        accept = METADATA_ONLY_LIST if self.metadata_only else None
        params = {**self.params, "limit": str(self.page_size)}
        self.handler.relist_begin(self.scope)
        version = ""
        while True:
            page = await self.client.list(self.path, params, accept=accept)
            for item in page.get("items") or []:
                if isinstance(item, dict):
                    self.handler.upsert(item)
            metadata = page.get("metadata") or {}
            version = str(metadata.get("resourceVersion") or version)
            token = metadata.get("continue")
            if not token:
                break
            params = {**params, "continue": str(token)}
        self.handler.relist_end(self.scope)
        self.resource_version = version
        self.synced.set()
        self._recovered()

    async def _watch(self) -> None:
        params = {**self.params, "allowWatchBookmarks": "true"}
        if self.resource_version:
            params["resourceVersion"] = self.resource_version
        server_timeout = random.randint(240, 360)  # noqa: S311 - spread reconnects like client-go
        accept = METADATA_ONLY if self.metadata_only else None
        async with self.client.watch(
            self.path, params, accept=accept, server_timeout=server_timeout
        ) as events:
            async for event in events:
                kind = event.get("type")
                obj = event.get("object")
                if not isinstance(obj, dict):
                    continue
                if kind == "ERROR":
                    code = int(obj.get("code") or 0)
                    if code == 410:
                        raise Gone(410, "Expired", str(obj.get("message", "")))
                    raise KubeError(code, str(obj.get("reason", "")), str(obj.get("message", "")))
                version = (obj.get("metadata") or {}).get("resourceVersion")
                if version:
                    self.resource_version = str(version)
                if kind in ("ADDED", "MODIFIED"):
                    self.handler.upsert(obj)
                elif kind == "DELETED":
                    self.handler.delete(obj)
                # BOOKMARK: only the version moves.
