"""The benchmark's watch on every resource, in a process of its own: it only reads and reduces.

The API server closes a watch whose client falls behind (`apiserver_terminated_watchers_total`),
and a watch that shares an event loop (and the GIL) with the rest of the benchmark falls behind
whenever that loop parses a large page or builds a large request. Here nothing else runs: the
stream is read as bytes, each event is parsed and reduced to a `Seen` at once, and the line that
carries it is handed to a writer thread, so a slow reader on the other end of the pipe never
stops this process from reading the socket.

When the server ends the watch (its timeout, or because it judged the watch unresponsive), the
watch resumes from the last resourceVersion seen; only when that is too old (410 Gone) does it
list again. Control lines (JSON objects) say when the first listing is complete and when the
watch resumed or listed again; every other line is an encoded `Seen`.

    python -m cloudmodel_dev.bench.watchproc KUBECONFIG
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import sys
import threading
import time
from typing import Any

import httpx

from cloudmodel_dev.bench.kubeapi import Kube, KubeConfig, KubeError, cms_path
from cloudmodel_dev.bench.observed import encode, reduce

GONE = 410


class Out:
    """Lines to stdout from a thread of their own: the reading loop never waits on the pipe."""

    def __init__(self) -> None:
        self._lines: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        threading.Thread(target=self._write, name="watch-out", daemon=True).start()

    def put(self, line: bytes) -> None:
        self._lines.put(line)

    def control(self, **fields: Any) -> None:
        self.put(json.dumps({**fields, "t": time.time()}).encode() + b"\n")

    def _write(self) -> None:
        out = sys.stdout.buffer
        while True:
            batch = [self._lines.get()]
            while True:
                try:
                    batch.append(self._lines.get_nowait())
                except queue.Empty:
                    break
            try:
                out.write(b"".join(batch))
                out.flush()
            except (BrokenPipeError, ValueError):
                os._exit(0)  # the benchmark is gone: so is its watch


async def list_into(kube: Kube, out: Out, kind: str) -> str:
    """Every resource as a `kind` line (LISTED or RELISTED); returns the version to watch from."""
    version = ""
    async for items, last in kube.list_pages(cms_path(None)):
        now = time.time()
        for obj in items:
            out.put(encode(reduce(obj, kind, now, 0, None)))
        version = last or version
    return version


async def follow(kube: Kube, out: Out) -> None:
    version: str | None = None
    first = True
    while True:
        if version is None:
            version = await list_into(kube, out, "LISTED" if first else "RELISTED")
            if first:
                out.control(event="synced")
                first = False
        try:
            async for line in kube.watch_lines(cms_path(None), version):
                event = json.loads(line)
                kind, obj = event["type"], event["object"]
                if kind == "ERROR":
                    code = int(obj.get("code") or 0)
                    raise KubeError(code, str(obj.get("message")))
                version = str(obj["metadata"]["resourceVersion"])
                if kind != "BOOKMARK":
                    out.put(encode(reduce(obj, kind, time.time(), len(line), None)))
            out.control(event="resumed", reason="the server ended the watch")
        except KubeError as exc:
            if exc.status == GONE:
                out.control(event="relist", reason=str(exc)[:200])
                version = None
            else:
                out.control(event="resumed", reason=str(exc)[:200])
                await asyncio.sleep(1.0)  # an API server that refuses: do not spin
        except (httpx.HTTPError, OSError) as exc:
            out.control(event="resumed", reason=repr(exc)[:200])
            await asyncio.sleep(1.0)


async def main(kubeconfig: str) -> None:
    kube = Kube(KubeConfig.load(kubeconfig), connections=4)
    try:
        await follow(kube, Out())
    finally:
        await kube.aclose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
