"""`/healthz` and `/readyz` on the health port, answered from the operator's own event loop.

Liveness: the loop answers at all (a loop blocked by a bug stops answering and the kubelet
restarts the pod). Readiness: every informer has listed its objects at least once. A standby
replica is ready too: it is serving its purpose, which is to be able to take over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

logger = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def serve(port: int, ready: Callable[[], bool], host: str = "0.0.0.0") -> AsyncIterator[None]:  # noqa: S104 - probes come from the kubelet
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(5):
                request = await reader.readline()
                while (await reader.readline()).strip():
                    pass  # headers: not needed
            parts = request.decode("latin-1").split()
            path = parts[1] if len(parts) > 1 else ""
            if path.startswith("/healthz"):
                status, body = "200 OK", "ok"
            elif path.startswith("/readyz"):
                status, body = (
                    ("200 OK", "ok") if ready() else ("503 Service Unavailable", "informers not synced")
                )
            else:
                status, body = "404 Not Found", "not found"
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
                f"Connection: close\r\n\r\n{body}".encode()
            )
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, host, port)
    try:
        yield
    finally:
        server.close()
        await server.wait_closed()
