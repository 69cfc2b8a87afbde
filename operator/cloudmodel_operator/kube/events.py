"""Kubernetes Events for transitions, folded like client-go's recorder.

An identical event (same object, type, reason and message) is not created again: the existing
one gets its count and lastTimestamp bumped, so `kubectl describe` shows "(x3 over 10m)"
instead of a flood. Events are only posted on transitions, never per poll, and a failure to post
one is logged, never raised: an Event is a courtesy, the status is the record.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cloudmodel_operator.api.spec import GROUP, KIND, VERSION
from cloudmodel_operator.kube import paths
from cloudmodel_operator.kube.client import Conflict, KubeClient, KubeError, NotFound
from cloudmodel_operator.redact import redact

logger = logging.getLogger(__name__)
COMPONENT = "cloudmodel-operator"


@dataclass(frozen=True)
class ObjectRef:
    namespace: str
    name: str
    uid: str


class EventRecorder:
    def __init__(self, client: KubeClient, instance: str = COMPONENT, *, remembered: int = 4096) -> None:
        self.client = client
        self.instance = instance
        self._counts: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._remembered = remembered
        self.posted = 0

    def _remember(self, key: tuple[str, str], count: int) -> None:
        self._counts[key] = count
        self._counts.move_to_end(key)
        while len(self._counts) > self._remembered:
            self._counts.popitem(last=False)

    async def record(self, ref: ObjectRef, event_type: str, reason: str, message: str) -> None:
        message = redact(message)
        digest = hashlib.sha256(f"{ref.uid}\0{event_type}\0{reason}\0{message}".encode()).hexdigest()[:12]
        name = f"{ref.name}.{digest}"
        key = (ref.namespace, name)
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            known = self._counts.get(key)
            if known is not None:
                try:
                    await self._bump(ref.namespace, name, known + 1, now)
                    self._remember(key, known + 1)
                    return
                except NotFound:
                    pass  # expired (Events have a TTL): post it anew
            try:
                await self.client.create(
                    paths.events(ref.namespace),
                    _event(ref, name, event_type, reason, message, now, self.instance),
                )
                self._remember(key, 1)
            except Conflict:
                existing = await self.client.get(paths.event(ref.namespace, name))
                count = int(existing.get("count") or 1) + 1
                await self._bump(ref.namespace, name, count, now)
                self._remember(key, count)
            self.posted += 1
        except KubeError as exc:
            logger.warning("could not post event %s about %s/%s: %s", reason, ref.namespace, ref.name, exc)

    async def _bump(self, namespace: str, name: str, count: int, now: str) -> None:
        await self.client.patch(paths.event(namespace, name), {"count": count, "lastTimestamp": now})


def _event(
    ref: ObjectRef, name: str, event_type: str, reason: str, message: str, now: str, instance: str
) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": ref.namespace},
        "involvedObject": {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": KIND,
            "name": ref.name,
            "namespace": ref.namespace,
            "uid": ref.uid,
        },
        "type": event_type,
        "reason": reason,
        "message": message,
        "count": 1,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "source": {"component": COMPONENT},
        "reportingComponent": COMPONENT,
        "reportingInstance": instance,
    }
