"""The raw limit: a plain async client replacing `/status` on N objects as fast as it can.

httpx with keep-alive and a fixed number of requests in flight, in its own process so that
neither the benchmark's watch nor anything else shares its event loop, and its CPU is known
(when it is near a full core, the client and not the API server is the limit; the table says).

The job names the resources (`members`: [index, name] pairs); the documents are the
benchmark's stale statuses (`documents.stale_status`), built here.

    python -m cloudmodel_dev.bench.limitwriter KUBECONFIG JOB.json   # prints one JSON line
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from cloudmodel_dev.bench.documents import stale_status
from cloudmodel_dev.bench.fleet import Member
from cloudmodel_dev.bench.kubeapi import Kube, KubeConfig, KubeError


async def write_all(
    kube: Kube, items: list[tuple[str, str, dict[str, Any]]], concurrency: int
) -> dict[str, Any]:
    queue: asyncio.Queue[tuple[str, str, dict[str, Any]]] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)
    errors: list[str] = []
    versions: list[str] = []  # what each write made: the benchmark tells its own writes apart by them

    async def worker() -> None:
        while not queue.empty():
            namespace, name, status = queue.get_nowait()
            try:
                written = await kube.replace_status(namespace, name, status)
                versions.append(str(written["metadata"]["resourceVersion"]))
            except (KubeError, OSError) as exc:
                errors.append(f"{name}: {exc}")

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.monotonic() - started
    return {
        "writes": len(items) - len(errors),
        "errors": len(errors),
        "seconds": seconds,
        "first_error": errors[:1],
        "versions": versions,
    }


async def main(kubeconfig: str, job: dict[str, Any]) -> None:
    kube = Kube(KubeConfig.load(kubeconfig), connections=int(job["concurrency"]))
    try:
        members = [Member(int(index), str(name)) for index, name in job["members"]]
        items = [(m.namespace, m.name, stale_status(m)) for m in members]
        result = await write_all(kube, items, int(job["concurrency"]))
    finally:
        await kube.aclose()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], json.loads(Path(sys.argv[2]).read_text())))
