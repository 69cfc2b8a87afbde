"""The Kopf watch-only baseline: what Kopf costs just to take in the objects.

Its only handler is an `@kopf.on.event` that counts distinct objects and prints one line,
`listed N`, when it has seen as many as the benchmark said exist; the benchmark then reads
this process' CPU and memory. Nothing is fetched or written.

    python -m cloudmodel_dev.bench.kopf_watchonly KUBECONFIG EXPECTED
"""

from __future__ import annotations

import sys
from typing import Any

import kopf

from cloudmodel_dev.bench import kopfbase
from cloudmodel_dev.bench.kubeapi import KubeConfig
from cloudmodel_operator.api.spec import GROUP, PLURAL, VERSION


def build_registry(config: KubeConfig, expected: int) -> kopf.OperatorRegistry:
    registry = kopf.OperatorRegistry()
    kopfbase.add_login(registry, config)
    seen: set[str] = set()

    @kopf.on.event(GROUP, VERSION, PLURAL, registry=registry)
    def event(uid: str | None, **_: Any) -> None:
        if uid is not None and uid not in seen:
            seen.add(uid)
            if len(seen) == expected:
                print(f"listed {expected}", flush=True)

    return registry


if __name__ == "__main__":
    kopfbase.run(build_registry(KubeConfig.load(sys.argv[1]), int(sys.argv[2])))
