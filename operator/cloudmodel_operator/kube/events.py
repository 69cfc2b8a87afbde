"""Kubernetes Events for transitions, aggregated like client-go's recorder.

An identical event (same object, type, reason and message) is not created again: the existing
one gets its count and lastTimestamp bumped, so `kubectl describe` shows "(x3 over 10m)"
instead of a flood. Events are only posted on transitions, never per poll.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import UTC, datetime
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from cloudmodel_operator.api.spec import GROUP, KIND, VERSION
from cloudmodel_operator.redact import redact

logger = logging.getLogger(__name__)
COMPONENT = "cloudmodel-operator"


class EventRecorder:
    def __init__(self, api: client.ApiClient, instance: str = "cloudmodel-operator") -> None:
        self.core = client.CoreV1Api(api)
        self.instance = instance

    async def record(self, body: dict[str, Any], event_type: str, reason: str, message: str) -> None:
        """Post (or bump) an Event about the resource; failures are logged, never raised."""
        try:
            await asyncio.to_thread(self._record, body, event_type, reason, redact(message))
        except ApiException as exc:
            logger.warning("could not post event %s: HTTP %s", reason, exc.status)

    def _record(self, body: dict[str, Any], event_type: str, reason: str, message: str) -> None:
        meta = body["metadata"]
        namespace, name, uid = meta["namespace"], meta["name"], meta.get("uid", "")
        digest = hashlib.sha256(f"{uid}\0{event_type}\0{reason}\0{message}".encode()).hexdigest()[:12]
        event_name = f"{name}.{digest}"
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            existing = self.core.read_namespaced_event(event_name, namespace)
        except ApiException as exc:
            if exc.status != 404:
                raise
            existing = None
        if existing is not None:
            self.core.patch_namespaced_event(
                event_name, namespace, {"count": (existing.count or 1) + 1, "lastTimestamp": now}
            )
            return
        event: Any = {
            "metadata": {"name": event_name, "namespace": namespace},
            "involvedObject": {
                "apiVersion": f"{GROUP}/{VERSION}",
                "kind": KIND,
                "name": name,
                "namespace": namespace,
                "uid": uid,
            },
            "type": event_type,
            "reason": reason,
            "message": message,
            "count": 1,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "source": {"component": COMPONENT},
            "reportingComponent": COMPONENT,
            "reportingInstance": self.instance,
        }
        self.core.create_namespaced_event(namespace, event)
