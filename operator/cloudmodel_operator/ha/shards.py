"""Which shards this replica owns, decided with one Lease per shard.

With one shard this is plain leader election: one Lease (`--lease-name`), one active replica,
the others standing by with warm watches. With N shards, resources are split by a stable hash of
namespace/name; each shard is owned through its own Lease, and every replica also renews a
membership Lease so all replicas can count each other. Each replica aims for its fair share:
shards divided by live replicas, the remainder going to the replicas that already hold more (so
shards move only when they must). A replica that holds more than its share hands the extras
over (stops their work, then releases their Leases); one that holds fewer takes free or lapsed
ones. A dead replica's shards lapse after the lease duration and are taken by the others.

Safety comes from the Leases alone: a replica works on a shard only while it holds that shard's
Lease (see `LeaseLock.authority`); the fair-share arithmetic only decides who *tries*. Replicas
that disagree about the number of shards (a rolling update that changes `--shards`) must not both
work: a replica that sees a live member announcing another shard count releases everything and
waits until it is alone in its opinion.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from cloudmodel_operator.ha.leases import (
    ANNOTATION_SHARDS,
    LABEL_ROLE,
    LABEL_SET,
    MANAGED_BY,
    LeaseLock,
)
from cloudmodel_operator.kube import paths
from cloudmodel_operator.kube.client import KubeClient, KubeError

logger = logging.getLogger(__name__)

OwnCallback = Callable[[set[int]], None]
GC_AFTER = 20  # lease durations after which a silent membership Lease is deleted


def _dns_label(text: str) -> str:
    cleaned = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    if len(cleaned) > 40:
        cleaned = cleaned[:31] + "-" + hashlib.sha256(text.encode()).hexdigest()[:8]
    return cleaned or "member"


class ShardManager:
    def __init__(
        self,
        client: KubeClient,
        *,
        namespace: str,
        lease_name: str,
        identity: str,
        shards: int,
        lease_duration: float,
        renew_deadline: float,
        retry_period: float,
        own: OwnCallback,
        ready: Callable[[], Awaitable[None]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if shards < 1:
            raise ValueError("shards must be >= 1")
        if not renew_deadline < lease_duration:
            raise ValueError("the renew deadline must be shorter than the lease duration")
        self.client = client
        self.namespace = namespace
        self.lease_name = lease_name
        self.identity = identity
        self.shards = shards
        self.retry_period = retry_period
        self.lease_duration = lease_duration
        self._own = own
        self._ready = ready
        self.clock = clock
        common = {"app.kubernetes.io/managed-by": MANAGED_BY, LABEL_SET: lease_name}
        self.locks = {
            shard: LeaseLock(
                client,
                namespace,
                self.shard_lease(shard),
                identity,
                duration=lease_duration,
                renew_deadline=renew_deadline,
                labels={**common, LABEL_ROLE: "shard"},
                annotations={ANNOTATION_SHARDS: str(shards)},
                clock=clock,
            )
            for shard in range(shards)
        }
        self.member = (
            LeaseLock(
                client,
                namespace,
                f"{lease_name}-member-{_dns_label(identity)}",
                identity,
                duration=lease_duration,
                renew_deadline=renew_deadline,
                labels={**common, LABEL_ROLE: "member"},
                annotations={ANNOTATION_SHARDS: str(shards)},
                clock=clock,
            )
            if shards > 1
            else None
        )
        # membership lease name -> (holder, renewTime, seen at on our clock, announced shard count)
        self._members: dict[str, tuple[str, str, float, str]] = {}
        self.owned: set[int] = set()
        self._disagreement_logged = False
        self.stopping = False

    def shard_lease(self, shard: int) -> str:
        return self.lease_name if self.shards == 1 else f"{self.lease_name}-shard-{shard}"

    def authority(self, shard: int) -> float:
        lock = self.locks.get(shard)
        return lock.authority() if lock is not None and shard in self.owned else 0.0

    # ----- the loop

    async def run(self) -> None:
        if self._ready is not None:
            await self._ready()  # take work only once the caches are warm
        watchdog = asyncio.create_task(self._watchdog(), name="lease-watchdog")
        try:
            while not self.stopping:
                started = self.clock()
                try:
                    async with asyncio.timeout(self.retry_period + self.locks[0].request_timeout):
                        await self.tick()
                except (KubeError, TimeoutError) as exc:
                    logger.debug("lease round failed: %s", exc or type(exc).__name__)
                self._expire()
                await asyncio.sleep(max(self.retry_period - (self.clock() - started), 0.0))
        finally:
            watchdog.cancel()

    async def _watchdog(self) -> None:
        """Stop work the moment a renew deadline passes, however long a lease round takes."""
        while True:
            ends = [self.locks[s].expires_at() for s in self.owned]
            soonest = min((e for e in ends if e is not None), default=None)
            delay = self.retry_period if soonest is None else max(soonest - self.clock(), 0.0) + 0.01
            await asyncio.sleep(min(delay, self.retry_period))  # a deadline, not an event
            self._expire()

    def _expire(self) -> None:
        """Stop work on shards whose renew deadline passed (renewals failed or were refused)."""
        lapsed = {shard for shard in self.owned if self.locks[shard].authority() <= 0}
        if lapsed:
            logger.warning("lost shard(s) %s: renewals failed past the renew deadline; stopping their work",
                           sorted(lapsed))  # fmt: skip
            self._set_owned(self.owned - lapsed)

    async def tick(self) -> None:
        if self.shards == 1:
            lock = self.locks[0]
            await lock.read()
            await lock.try_acquire_or_renew()
            # One failed renewal is not a lost lease: authority lasts until the renew deadline.
            self._set_owned({0} if lock.authority() > 0 else set())
            return
        assert self.member is not None
        await self._observe_all()
        await self.member.try_acquire_or_renew()
        members = self._live_members()
        if any(count != str(self.shards) for count in members.values()):
            if not self._disagreement_logged:
                logger.warning("replicas disagree on the number of shards (%s); releasing all shards until "
                               "only one setting is live", sorted(set(members.values())))  # fmt: skip
                self._disagreement_logged = True
            await self._release(set(self.owned))
            return
        self._disagreement_logged = False
        # Renew what we hold.
        for shard in sorted(self.owned):
            await self.locks[shard].try_acquire_or_renew()
        quota = self._quota(sorted(members))
        held = {s for s in self.owned if self.locks[s].authority() > 0}
        if len(held) > quota:
            extras = set(sorted(held)[quota:])
            await self._release(extras)
            held -= extras
        elif len(held) < quota:
            start = int(hashlib.sha256(self.identity.encode()).hexdigest(), 16) % self.shards
            for offset in range(self.shards):
                if len(held) >= quota:
                    break
                shard = (start + offset) % self.shards
                lock = self.locks[shard]
                if shard in held or not lock.free():
                    continue
                if await lock.try_acquire_or_renew():
                    held.add(shard)
        self._set_owned(held)

    def _quota(self, members: list[str]) -> int:
        """This replica's fair share: the remainder goes to the replicas already holding the most."""
        count = max(len(members), 1)
        holding: dict[str, int] = {member: 0 for member in members}
        for lock in self.locks.values():
            holder = lock.holder()
            if holder in holding:
                holding[holder] += 1
        order = sorted(members, key=lambda member: (-holding[member], member))
        base, extra = divmod(self.shards, count)
        position = order.index(self.identity) if self.identity in order else len(order)
        return base + (1 if position < extra else 0)

    async def _observe_all(self) -> None:
        selector = f"{LABEL_SET}={self.lease_name}"
        listing = await self.client.list(
            paths.leases(self.namespace),
            {"labelSelector": selector},
            within=self.locks[0].request_timeout,
            exempt=True,
        )
        by_name: dict[str, dict[str, Any]] = {}
        for item in listing.get("items") or []:
            name = str((item.get("metadata") or {}).get("name") or "")
            by_name[name] = item
        for lock in self.locks.values():
            lock.observe(by_name.get(lock.name))
        now = self.clock()
        members: dict[str, tuple[str, str, float, str]] = {}
        for name, item in by_name.items():
            metadata = item.get("metadata") or {}
            if (metadata.get("labels") or {}).get(LABEL_ROLE) != "member":
                continue
            spec = item.get("spec") or {}
            holder = str(spec.get("holderIdentity") or "")
            renew = str(spec.get("renewTime") or "")
            shards = str((metadata.get("annotations") or {}).get(ANNOTATION_SHARDS, ""))
            previous = self._members.get(name)
            seen_at = previous[2] if previous is not None and previous[:2] == (holder, renew) else now
            members[name] = (holder, renew, seen_at, shards)
            gone_for = now - seen_at
            if (
                self.member is None or name != self.member.name
            ) and gone_for > GC_AFTER * self.lease_duration:
                await self._delete_member(name)
        self._members = members
        if self.member is not None:
            self.member.observe(by_name.get(self.member.name))

    async def _delete_member(self, name: str) -> None:
        """Membership Leases of replicas long gone (old pods of a rollout) are removed."""
        try:
            await self.client.request("DELETE", paths.lease(self.namespace, name), verb="delete", exempt=True)
            self._members.pop(name, None)
        except KubeError as exc:
            logger.debug("could not remove the old membership lease %s: %s", name, exc)

    def _live_members(self) -> dict[str, str]:
        """identity -> announced shard count, for members renewed within a lease duration."""
        now = self.clock()
        live = {holder: shards for holder, _, seen_at, shards in self._members.values()
                if holder and now - seen_at <= self.lease_duration}  # fmt: skip
        live[self.identity] = str(self.shards)
        return live

    def _set_owned(self, owned: set[int]) -> None:
        if owned != self.owned:
            gained, lost = owned - self.owned, self.owned - owned
            if gained:
                logger.info("%s now owns shard(s) %s", self.identity, sorted(gained))
            if lost:
                logger.info("%s no longer owns shard(s) %s", self.identity, sorted(lost))
            self.owned = set(owned)
            self._own(set(owned))

    async def _release(self, shards: set[int]) -> None:
        if not shards:
            return
        self._set_owned(self.owned - shards)  # stop the work first, then let others take it
        for shard in sorted(shards):
            await self.locks[shard].release()

    async def release_all(self) -> None:
        """On shutdown: hand everything over at once."""
        self.stopping = True
        await self._release(set(self.owned))
        if self.member is not None:
            await self.member.release()
