"""A small async Kubernetes client for the benchmark itself: one httpx client, keep-alive.

The benchmark's own traffic (creating objects, the raw-limit writes, its watch) goes through
here, not through the operator's code, so it measures the API server and not ourselves.
Only what a token kubeconfig of the local control plane needs is supported.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from cloudmodel_operator.api.spec import GROUP, PLURAL, VERSION


class KubeError(RuntimeError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


@dataclass(frozen=True)
class KubeConfig:
    server: str
    token: str
    ca_file: str

    @classmethod
    def load(cls, path: str | Path) -> KubeConfig:
        config = yaml.safe_load(Path(path).read_text())
        context_name = config["current-context"]
        context = next(c["context"] for c in config["contexts"] if c["name"] == context_name)
        cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
        user = next(u["user"] for u in config["users"] if u["name"] == context["user"])
        return cls(cluster["server"], user["token"], cluster["certificate-authority"])


def cms_path(namespace: str | None, name: str | None = None, subresource: str | None = None) -> str:
    """The resources' path; `namespace=None` is every namespace (list and watch only)."""
    scope = "" if namespace is None else f"/namespaces/{namespace}"
    path = f"/apis/{GROUP}/{VERSION}{scope}/{PLURAL}"
    if name is not None:
        path += f"/{name}"
    if subresource is not None:
        path += f"/{subresource}"
    return path


class Kube:
    def __init__(self, config: KubeConfig, *, connections: int = 64, timeout: float = 60.0) -> None:
        self.config = config
        context = ssl.create_default_context(cafile=config.ca_file)
        self.client = httpx.AsyncClient(
            base_url=config.server,
            verify=context,
            # No gzip: on loopback it only costs the API server and us CPU (lists of 10,000 objects).
            headers={
                "Authorization": f"Bearer {config.token}",
                "User-Agent": "cloudmodel-bench",
                "Accept-Encoding": "identity",
            },
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
            timeout=httpx.Timeout(timeout),
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content_type: str = "application/json",
        params: dict[str, str] | None = None,
        ok: tuple[int, ...] = (200, 201),
    ) -> Any:
        content = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": content_type} if content is not None else {}
        response = await self.client.request(method, path, content=content, headers=headers, params=params)
        if response.status_code not in ok:
            raise KubeError(response.status_code, f"{method} {path}: {response.text[:500]}")
        return response.json() if response.content else None

    async def create(self, path: str, body: dict[str, Any], *, exist_ok: bool = False) -> Any:
        try:
            return await self.request("POST", path, body)
        except KubeError as exc:
            if exist_ok and exc.status == 409:
                return None
            raise

    async def replace_status(self, namespace: str, name: str, status: dict[str, Any]) -> dict[str, Any]:
        """Replace the whole status (a JSON patch on /status), the same write the operator makes."""
        result: dict[str, Any] = await self.request(
            "PATCH",
            cms_path(namespace, name, "status"),
            [{"op": "add", "path": "/status", "value": status}],
            content_type="application/json-patch+json",
        )
        return result

    async def delete(self, path: str) -> None:
        await self.request("DELETE", path, ok=(200, 202, 404))

    async def list_pages(
        self, path: str, page: int = 500
    ) -> AsyncIterator[tuple[list[dict[str, Any]], str | None]]:
        """Each page of items, with the list's resourceVersion on the last page (None before it).

        A page of 500 objects is parsed at once (a few MB); the whole list never is.
        """
        params = {"limit": str(page)}
        while True:
            result = await self.request("GET", path, params=params)
            token = result["metadata"].get("continue")
            yield result.get("items") or [], None if token else str(result["metadata"]["resourceVersion"])
            if not token:
                return
            params = {"limit": str(page), "continue": token}

    async def list_all(self, path: str, page: int = 500) -> tuple[list[dict[str, Any]], str]:
        """Every item (paged) and the list's resourceVersion to watch from."""
        items: list[dict[str, Any]] = []
        version = ""
        async for chunk, last in self.list_pages(path, page):
            items.extend(chunk)
            version = last or version
        return items, version

    async def watch_lines(self, path: str, resource_version: str) -> AsyncIterator[bytes]:
        """The raw watch stream, one event's JSON per line, until the server ends it.

        Lines are split from the bytes as they arrive: no text decoding on the way.
        """
        params = {
            "watch": "true",
            "resourceVersion": resource_version,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": "3600",
        }
        timeout = httpx.Timeout(60.0, read=None)
        async with self.client.stream("GET", path, params=params, timeout=timeout) as response:
            if response.status_code != 200:
                await response.aread()
                raise KubeError(response.status_code, f"watch {path}: {response.text[:300]}")
            rest = b""
            async for chunk in response.aiter_raw():
                lines = (rest + chunk).split(b"\n")
                rest = lines.pop()
                for line in lines:
                    if line:
                        yield line

    async def watch(self, path: str, resource_version: str) -> AsyncIterator[tuple[str, dict[str, Any], int]]:
        """(type, object, size of the event in bytes) until the server ends the watch."""
        async for line in self.watch_lines(path, resource_version):
            event = json.loads(line)
            yield event["type"], event["object"], len(line)

    async def text(self, path: str) -> str:
        response = await self.client.get(path)
        if response.status_code != 200:
            raise KubeError(response.status_code, f"GET {path}")
        return response.text
