"""The one async Kubernetes client: httpx, a client-side QPS/burst budget, timeouts on everything.

Requests are plain JSON over one multiplexed HTTP/2 connection; each watch stream has an
HTTP/1.1 connection of its own. Every request but a watch stream waits for a token from the QPS
budget (like client-go's rate limiter); a watch's *establishment* takes a token, its stream does
not. Every request has a deadline, so a hung API server never pins a task forever.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx

from cloudmodel_operator import __version__
from cloudmodel_operator.kube.config import KubeConfig
from cloudmodel_operator.ratelimit import TokenBucket

logger = logging.getLogger(__name__)

USER_AGENT = f"cloudmodel-operator/{__version__}"
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
METADATA_ONLY_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
METADATA_ONLY = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json"


class KubeError(Exception):
    """The API server answered with an error status (or could not be reached: `status` 0)."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"HTTP {status} {reason}: {message}" if status else message)
        self.status = status
        self.reason = reason
        self.message = message


class NotFound(KubeError):
    pass


class Conflict(KubeError):
    pass


class Gone(KubeError):
    """410: the resourceVersion a watch asked for is too old; list again."""


class KubeUnavailable(KubeError):
    """No answer: connection refused or reset, timeout, or a 5xx/429 from the API server."""


def _error(response: httpx.Response) -> KubeError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    reason = str(body.get("reason") or response.reason_phrase or "")
    message = str(body.get("message") or response.text[:300] or reason)
    status = response.status_code
    kind: type[KubeError] = KubeError
    if status == 404:
        kind = NotFound
    elif status == 409:
        kind = Conflict
    elif status == 410:
        kind = Gone
    elif status >= 500 or status == 429:
        kind = KubeUnavailable
    return kind(status, reason, message)


RequestHook = Callable[[str, int, float], None]
"""(verb, HTTP status or 0 for no answer, seconds): lets metrics count API requests."""


class KubeClient:
    def __init__(
        self,
        config: KubeConfig,
        *,
        qps: float = 20.0,
        burst: int = 30,
        timeout: float = 30.0,
        max_connections: int = 64,
        user_agent: str = USER_AGENT,
        on_request: RequestHook | None = None,
    ) -> None:
        self.config = config
        self.timeout = timeout
        self.budget = TokenBucket(qps, burst)
        self._on_request = on_request
        self._http = httpx.AsyncClient(
            base_url=config.server,
            verify=config.ssl_context,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            headers={"User-Agent": user_agent, "Accept": "application/json"},
            trust_env=False,
            follow_redirects=False,
            # One multiplexed connection instead of a pool of dozens: the pool's per-request scan
            # of its idle connections was a fifth of the operator's CPU at a thousand resources.
            http2=True,
        )
        # Watches stay off that connection. httpcore reads an HTTP/2 connection under one lock,
        # held by whichever waiting stream got it first until *any* frame arrives: an idle watch
        # holding it starves every other stream whose answer already came (seen with three
        # namespaced watches: lease renewals timed out for a minute, until a bookmark arrived).
        self._watch_http = httpx.AsyncClient(
            base_url=config.server,
            verify=config.ssl_context,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=0),
            headers={"User-Agent": user_agent, "Accept": "application/json"},
            trust_env=False,
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        await self._http.aclose()
        await self._watch_http.aclose()

    def _headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        headers = dict(extra or {})
        authorization = self.config.authorization()
        if authorization:
            headers["Authorization"] = authorization
        return headers

    def _record(self, verb: str, status: int, started: float) -> None:
        if self._on_request is not None:
            self._on_request(verb, status, time.monotonic() - started)

    async def request(
        self,
        method: str,
        path: str,
        *,
        verb: str,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        accept: str | None = None,
        within: float | None = None,
        exempt: bool = False,
    ) -> dict[str, Any]:
        """One API call; the decoded JSON object, or a `KubeError`.

        `exempt` requests (the Leases) skip the QPS budget: a renewal queued behind a burst of
        status writes would let the lease lapse, as client-go avoids with a separate client.
        """
        if not exempt:
            await self.budget.acquire()
        headers = self._headers({"Accept": accept} if accept else None)
        content = None
        if body is not None:
            content = json.dumps(body, separators=(",", ":")).encode()
            headers["Content-Type"] = content_type
        started = time.monotonic()
        try:
            async with asyncio.timeout(within or self.timeout):
                response = await self._http.request(
                    method, path, params=params, content=content, headers=headers
                )
        except (httpx.TransportError, TimeoutError) as exc:
            self._record(verb, 0, started)
            raise KubeUnavailable(
                0, type(exc).__name__, f"no answer from the API server: {type(exc).__name__}"
            ) from exc
        self._record(verb, response.status_code, started)
        if response.status_code >= 400:
            raise _error(response)
        try:
            decoded: Any = response.json()
        except ValueError as exc:
            raise KubeError(
                response.status_code, "BadResponse", "the API server answered with non-JSON"
            ) from exc
        if not isinstance(decoded, dict):
            raise KubeError(
                response.status_code, "BadResponse", "the API server answered with non-object JSON"
            )
        return decoded

    async def get(
        self, path: str, *, accept: str | None = None, within: float | None = None, exempt: bool = False
    ) -> dict[str, Any]:
        return await self.request("GET", path, verb="get", accept=accept, within=within, exempt=exempt)

    async def list(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        accept: str | None = None,
        within: float | None = None,
        exempt: bool = False,
    ) -> dict[str, Any]:
        return await self.request(
            "GET", path, verb="list", params=params, accept=accept, within=within, exempt=exempt
        )

    async def create(
        self, path: str, body: Mapping[str, Any], *, within: float | None = None, exempt: bool = False
    ) -> dict[str, Any]:
        return await self.request("POST", path, verb="create", body=body, within=within, exempt=exempt)

    async def update(
        self, path: str, body: Mapping[str, Any], *, within: float | None = None, exempt: bool = False
    ) -> dict[str, Any]:
        return await self.request("PUT", path, verb="update", body=body, within=within, exempt=exempt)

    async def patch(
        self,
        path: str,
        body: Any,
        *,
        content_type: str = MERGE_PATCH,
        params: Mapping[str, str] | None = None,
        within: float | None = None,
    ) -> dict[str, Any]:
        return await self.request(
            "PATCH", path, verb="patch", body=body, content_type=content_type, params=params, within=within
        )

    @asynccontextmanager
    async def watch(
        self, path: str, params: Mapping[str, str], *, accept: str | None = None, server_timeout: int
    ) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        """Open a watch stream; yields an iterator of decoded watch events.

        The server ends the stream after `server_timeout` seconds; the client gives it a minute
        more before it calls the connection dead.
        """
        await self.budget.acquire()
        query = {**params, "watch": "true", "timeoutSeconds": str(server_timeout)}
        headers = self._headers({"Accept": accept} if accept else None)
        timeout = httpx.Timeout(server_timeout + 60.0, connect=10.0)
        started = time.monotonic()
        try:
            async with self._watch_http.stream(
                "GET", path, params=query, headers=headers, timeout=timeout
            ) as response:
                self._record("watch", response.status_code, started)
                if response.status_code >= 400:
                    await response.aread()
                    raise _error(response)
                yield _events(response)
        except httpx.TransportError as exc:
            self._record("watch", 0, started)
            raise KubeUnavailable(0, type(exc).__name__, f"watch stream broke: {type(exc).__name__}") from exc


async def _events(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    async for line in response.aiter_lines():
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            logger.warning("ignoring an undecodable watch event (%d bytes)", len(line))
            continue
        if isinstance(event, dict):
            yield event
