"""One Lease, held the way client-go's leader election holds it.

- A replica may take a Lease that nobody holds, or whose holder has not renewed it for a whole
  lease duration *as observed by this replica's own clock* (clocks of different machines are
  never compared, only how long this one saw the record unchanged).
- The holder renews every retry period. It considers itself the holder only until its last
  successful renewal plus the renew deadline, which is shorter than the lease duration: so it
  stops acting before anybody else may start.
- Releasing (on shutdown) empties the holder and shortens the duration, so a standby takes over
  on its next try instead of waiting out the lease.
Writes are optimistic (the Lease's resourceVersion): two replicas racing for a Lease cannot
both win.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cloudmodel_operator.kube import paths
from cloudmodel_operator.kube.client import Conflict, KubeClient, KubeError, NotFound

logger = logging.getLogger(__name__)

MANAGED_BY = "cloudmodel-operator"
LABEL_SET = "cloudmodel.io/lease-set"
LABEL_ROLE = "cloudmodel.io/lease-role"
ANNOTATION_SHARDS = "cloudmodel.io/shards"


def micro_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Observed:
    holder: str
    duration: float
    renew_time: str
    version: str
    seen_at: float  # this replica's clock when the record last changed


class LeaseLock:
    def __init__(
        self,
        client: KubeClient,
        namespace: str,
        name: str,
        identity: str,
        *,
        duration: float,
        renew_deadline: float,
        labels: dict[str, str] | None = None,
        annotations: dict[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = client
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.duration = duration
        self.renew_deadline = renew_deadline
        self.labels = labels or {}
        self.annotations = annotations or {}
        self.clock = clock
        self.wall = wall
        self.observed: Observed | None = None
        self.raw: dict[str, Any] | None = None
        self.last_renew: float | None = None  # our clock at the last successful acquire/renew

    # --- what this replica may believe

    @property
    def held(self) -> bool:
        return self.authority() > 0

    def expires_at(self) -> float | None:
        """Our clock's time when this replica's authority ends (None: it has none)."""
        return None if self.last_renew is None else self.last_renew + self.renew_deadline

    def authority(self) -> float:
        """Seconds this replica may still act as the holder (0 when it is not the holder)."""
        if self.last_renew is None:
            return 0.0
        return max(self.last_renew + self.renew_deadline - self.clock(), 0.0)

    def free(self) -> bool:
        """Nobody holds the lease, or its holder let it lapse (as observed here)."""
        observed = self.observed
        if observed is None or not observed.holder:
            return True
        if observed.holder == self.identity:
            return True
        return self.clock() - observed.seen_at > observed.duration

    def holder(self) -> str | None:
        """The holder as observed, if its lease is still running."""
        observed = self.observed
        if observed is None or not observed.holder:
            return None
        if observed.holder != self.identity and self.clock() - observed.seen_at > observed.duration:
            return None
        return observed.holder

    # --- observing and acting

    def observe(self, raw: dict[str, Any] | None) -> None:
        """Take in the Lease as read from the API server (None: it does not exist)."""
        self.raw = raw
        if raw is None:
            self.observed = None
            return
        spec = raw.get("spec") or {}
        holder = str(spec.get("holderIdentity") or "")
        duration = float(spec.get("leaseDurationSeconds") or self.duration)
        renew = str(spec.get("renewTime") or "")
        version = str((raw.get("metadata") or {}).get("resourceVersion") or "")
        previous = self.observed
        if previous is None or (previous.holder, previous.renew_time, previous.version) != (
            holder,
            renew,
            version,
        ):
            self.observed = Observed(holder, duration, renew, version, self.clock())
        if holder != self.identity:
            self.last_renew = None

    @property
    def request_timeout(self) -> float:
        """Lease requests must come back well inside the renew deadline, or not at all."""
        return max(self.renew_deadline / 2, 0.5)

    async def read(self) -> None:
        try:
            raw = await self.client.get(
                paths.lease(self.namespace, self.name), within=self.request_timeout, exempt=True
            )
        except NotFound:
            raw = None
        self.observe(raw)

    async def try_acquire_or_renew(self) -> bool:
        """Take or renew the lease if this replica may; True when it holds it now."""
        started = self.clock()
        if not self.free():
            return False
        now = self.wall()
        try:
            if self.raw is None:
                body = self._lease(now, acquire=True, transitions=0)
                result = await self.client.create(
                    paths.leases(self.namespace), body, within=self.request_timeout, exempt=True
                )
            else:
                spec = dict(self.raw.get("spec") or {})
                ours = spec.get("holderIdentity") == self.identity
                transitions = int(spec.get("leaseTransitions") or 0) + (0 if ours else 1)
                body = self._lease(now, acquire=not ours, transitions=transitions, previous=self.raw)
                result = await self.client.update(
                    paths.lease(self.namespace, self.name), body, within=self.request_timeout, exempt=True
                )
        except Conflict:
            logger.debug("lost the race for lease %s", self.name)
            return False
        except KubeError as exc:
            logger.debug("cannot acquire/renew lease %s: %s", self.name, exc)
            return False
        self.observe(result)
        self.last_renew = started  # count from before the request: the conservative end
        return True

    async def release(self) -> None:
        """Give the lease up at once (on shutdown or when handing a shard over)."""
        held = self.last_renew is not None
        self.last_renew = None
        if not held or self.raw is None:
            return
        spec = dict(self.raw.get("spec") or {})
        if spec.get("holderIdentity") != self.identity:
            return
        body = dict(self.raw)
        body["spec"] = {
            **spec,
            "holderIdentity": "",
            "leaseDurationSeconds": 1,
            "renewTime": micro_time(self.wall()),
        }
        try:
            result = await self.client.update(
                paths.lease(self.namespace, self.name), body, within=5.0, exempt=True
            )
            self.observe(result)
        except KubeError as exc:
            logger.info("could not release lease %s (it will expire): %s", self.name, exc)

    def _lease(
        self, now: datetime, *, acquire: bool, transitions: int, previous: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        metadata: dict[str, Any] = dict((previous or {}).get("metadata") or {})
        metadata.update({"name": self.name, "namespace": self.namespace})
        metadata["labels"] = {**(metadata.get("labels") or {}), **self.labels}
        metadata["annotations"] = {**(metadata.get("annotations") or {}), **self.annotations}
        spec: dict[str, Any] = dict((previous or {}).get("spec") or {})
        spec.update(
            {
                "holderIdentity": self.identity,
                "leaseDurationSeconds": round(self.duration),
                "renewTime": micro_time(now),
                "leaseTransitions": transitions,
            }
        )
        if acquire or "acquireTime" not in spec:
            spec["acquireTime"] = micro_time(now)
        return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": metadata, "spec": spec}
