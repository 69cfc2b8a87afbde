"""What the two Kopf programs of the benchmark share: login from a kubeconfig, running standalone."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import kopf

from cloudmodel_dev.bench.kubeapi import KubeConfig


def add_login(registry: kopf.OperatorRegistry, config: KubeConfig) -> None:
    @kopf.on.login(registry=registry)
    def login(**_: Any) -> kopf.ConnectionInfo:
        return kopf.ConnectionInfo(
            server=config.server, ca_path=config.ca_file, scheme="Bearer", token=config.token
        )

    @kopf.on.startup(registry=registry)
    def quiet(settings: kopf.OperatorSettings, **_: Any) -> None:
        # Kopf posts every INFO log line of a handler as a Kubernetes Event by default; the
        # operator turns that down to warnings too, so neither side pays for it.
        settings.posting.level = logging.WARNING


def run(registry: kopf.OperatorRegistry) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(kopf.operator(registry=registry, standalone=True, clusterwide=True))
