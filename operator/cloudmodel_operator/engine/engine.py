"""The engine: the store of records, the delay queue, the workers, and which shards this replica owns.

It is an informer handler (every CloudModelService event lands in `upsert`/`delete`), and it is
told which shards it owns (`own`). It polls only resources in owned shards; for the others it
keeps its records warm, following what their owner writes, so a takeover continues from there.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from cloudmodel_operator.api.status import CloudModelServiceStatus
from cloudmodel_operator.engine.fetcher import BudgetKey
from cloudmodel_operator.engine.queue import DelayQueue
from cloudmodel_operator.engine.reconcile import (
    KUBE_RETRY,
    Done,
    Gone,
    Later,
    NotOwner,
    Reconciler,
    metrics_body,
)
from cloudmodel_operator.engine.records import (
    RECONCILE_ANNOTATION,
    Key,
    Record,
    digest,
    last_sync_timestamp,
    pack,
    parse_spec,
    shard_of,
    unpack,
)
from cloudmodel_operator.engine.schedule import first_delay
from cloudmodel_operator.metrics import Metrics
from cloudmodel_operator.settings import Settings

logger = logging.getLogger(__name__)

REPAIR_DELAY = 1.0  # seconds: let our own write's echo arrive before calling a difference foreign
REPAIRS_BEFORE_BACKOFF = 5  # within REPAIR_WINDOW; then another writer is fighting us: slow down
REPAIR_WINDOW = 600.0
BUG_RETRY = 30.0
EMPTY = digest({})


class Engine:
    def __init__(
        self,
        settings: Settings,
        metrics: Metrics,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.clock = clock
        self.wall = wall
        self.reconciler: Reconciler | None = None  # set by the app once its dependencies exist
        self.records: dict[Key, Record] = {}
        self.by_secret: defaultdict[tuple[str, str], set[Key]] = defaultdict(set)
        self.by_shard: defaultdict[int, set[Key]] = defaultdict(set)
        self.owned: set[int] = set()
        self.queue: DelayQueue[Key] = DelayQueue(settings.workers, clock)
        self._running: dict[Key, asyncio.Task[None]] = {}
        self._relist_seen: dict[str | None, set[Key]] = {}
        self._demand: defaultdict[BudgetKey, float] = defaultdict(float)
        self._demand_count: defaultdict[BudgetKey, int] = defaultdict(int)
        self._tasks: list[asyncio.Task[None]] = []
        self.passes = 0

    # ----- ownership

    def owns(self, shard: int) -> bool:
        return shard in self.owned

    def own(self, shards: set[int]) -> None:
        """From now on, poll exactly the resources of these shards."""
        lost, gained = self.owned - shards, shards - self.owned
        self.owned = set(shards)
        for shard in lost:
            for key in self.by_shard.get(shard, ()):
                self.queue.forget(key)
                task = self._running.get(key)
                if task is not None:
                    task.cancel()
                rec = self.records[key]
                rec.token_reserved = False
                rec.poll_due = None
                # What this replica last built may be outdated by the next owner's writes: if the
                # shard comes back, the first pass must build and compare, not skip.
                rec.observed_digest = rec.clean_key = None
                self._set_demand(rec, None, 0.0)  # the new owner counts it against its budget
                self.metrics.resource_gone(*key)  # the new owner exports it
        for shard in gained:
            for key in self.by_shard.get(shard, ()):
                rec = self.records[key]
                self._schedule_first(rec, unpack(rec.ours))
        if lost or gained:
            self.metrics.owned.set(sum(len(self.by_shard.get(s, ())) for s in self.owned))

    def owned_secrets(self) -> set[tuple[str, str]]:
        """The Secrets that resources in owned shards name (their health is this replica's to report)."""
        return {
            secret
            for secret, keys in self.by_secret.items()
            if any(self.owns(self.records[k].shard) for k in keys)
        }

    # ----- informer handler

    def relist_begin(self, scope: str | None) -> None:
        self._relist_seen[scope] = set()

    def relist_end(self, scope: str | None) -> None:
        seen = self._relist_seen.pop(scope, set())
        for key in [k for k in self.records if (scope is None or k[0] == scope) and k not in seen]:
            self._forget(key)

    def delete(self, obj: dict[str, Any]) -> None:
        meta = obj.get("metadata") or {}
        key = (str(meta.get("namespace") or ""), str(meta.get("name") or ""))
        rec = self.records.get(key)
        if rec is not None and rec.uid == meta.get("uid", rec.uid):
            self._forget(key)

    def upsert(self, obj: dict[str, Any]) -> None:
        meta = obj.get("metadata") or {}
        key = (str(meta.get("namespace") or ""), str(meta.get("name") or ""))
        for seen in self._relist_seen.values():
            seen.add(key)
        if meta.get("deletionTimestamp"):
            self._forget(key)  # nothing is fetched for a resource that is going away
            return
        uid = str(meta.get("uid") or "")
        version = str(meta.get("resourceVersion") or "")
        rec = self.records.get(key)
        if rec is not None and rec.uid != uid:
            self._forget(key)  # deleted and re-created under the same name
            rec = None
        if rec is not None and rec.resource_version == version:
            return  # a relist of an object we already know
        status = obj.get("status") or {}
        if not isinstance(status, dict):
            status = {}
        status_digest = digest(status) if status else EMPTY
        generation = meta.get("generation")
        annotations = meta.get("annotations") or {}
        request = annotations.get(RECONCILE_ANNOTATION) if isinstance(annotations, dict) else None
        if rec is None:
            spec, error = parse_spec(obj.get("spec"))
            rec = Record(
                namespace=key[0],
                name=key[1],
                uid=uid,
                resource_version=version,
                generation=int(generation) if generation is not None else None,
                spec=spec,
                spec_error=error,
                reconcile_request=str(request) if request is not None else None,
                shard=shard_of(key[0], key[1], self.settings.shards),
                seen_digest=status_digest,
                ours=pack(status) if status else None,
                ours_digest=status_digest,
                last_write=last_sync_timestamp(status),
            )
            self._add(rec)
            if self.owns(rec.shard):
                self._schedule_first(rec, status)
            return

        rec.resource_version = version
        owned = self.owns(rec.shard)
        if generation is not None and int(generation) != rec.generation:
            rec.generation = int(generation)
            self._index_secret(rec, remove=True)
            rec.spec, rec.spec_error = parse_spec(obj.get("spec"))
            self._index_secret(rec)
            rec.token_reserved = False
            if owned:
                self._poll_now(rec)
        new_request = str(request) if request is not None else None
        if new_request != rec.reconcile_request:
            rec.reconcile_request = new_request
            if owned and new_request is not None and status.get("lastHandledReconcileAt") != new_request:
                rec.bypass_cache = True
                self._poll_now(rec)
        if status_digest != rec.seen_digest:
            rec.seen_digest = status_digest
            if not owned:
                rec.ours, rec.ours_digest = (pack(status) if status else None), status_digest
                rec.last_write = last_sync_timestamp(status)
                rec.observed_digest = rec.clean_key = None
            elif status_digest != rec.ours_digest:
                self._repair_later(rec)
            elif rec.unannounced is not None:
                self.queue.add(rec.key, 0.0)  # a write that seemed to fail has landed: announce it

    # ----- wake-ups

    def secret_changed(self, namespace: str, name: str) -> None:
        for key in self.by_secret.get((namespace, name), ()):
            rec = self.records[key]
            if self.owns(rec.shard):
                self._poll_now(rec)

    def _poll_now(self, rec: Record) -> None:
        rec.poll_due = self.clock()
        rec.woken = True
        self.queue.add(rec.key, 0.0)

    def _repair_later(self, rec: Record) -> None:
        now = self.clock()
        if now - rec.repair_window > REPAIR_WINDOW:
            rec.repair_window, rec.repairs = now, 0
        rec.repairs += 1
        extra = rec.repairs - REPAIRS_BEFORE_BACKOFF
        if extra == 1:
            logger.warning(
                "another client keeps changing the status of %s/%s; putting it back ever more slowly",
                *rec.key,
            )
        delay = REPAIR_DELAY if extra <= 0 else min(10.0 * 2**extra, REPAIR_WINDOW)
        self.queue.add(rec.key, delay)

    def _schedule_first(self, rec: Record, status: dict[str, Any]) -> None:
        if status:
            self.metrics.observe_status(metrics_body(rec), CloudModelServiceStatus.from_object(status))
        spec = rec.spec
        interval = spec.poll_interval.total_seconds() if spec is not None else 60.0
        if spec is None or spec.suspend:
            # Nothing to poll; write once if the status does not yet say so for this generation.
            delay: float | None = 0.0 if status.get("observedGeneration") != rec.generation else None
        else:
            delay = first_delay(
                status,
                generation=rec.generation,
                reconcile_request=rec.reconcile_request,
                interval=interval,
                terminal_recheck=self.settings.terminal_recheck.total_seconds(),
                heartbeat=self.settings.heartbeat.total_seconds(),
                now=self.wall(),
            )
        if delay is None:
            rec.poll_due = None
            return
        rec.poll_due = self.clock() + max(delay, 0.0)
        rec.woken = False
        self.queue.add(rec.key, delay)

    # ----- bookkeeping

    def _add(self, rec: Record) -> None:
        self.records[rec.key] = rec
        self.by_shard[rec.shard].add(rec.key)
        self._index_secret(rec)
        self.metrics.watched.set(len(self.records))
        if self.owns(rec.shard):
            self.metrics.owned.inc()

    def _index_secret(self, rec: Record, *, remove: bool = False) -> None:
        if rec.secret is None:
            return
        keys = self.by_secret[(rec.namespace, rec.secret)]
        if remove:
            keys.discard(rec.key)
            if not keys:
                del self.by_secret[(rec.namespace, rec.secret)]
        else:
            keys.add(rec.key)

    def _forget(self, key: Key) -> None:
        rec = self.records.pop(key, None)
        if rec is None:
            return
        self.queue.forget(key)
        task = self._running.get(key)
        if task is not None:
            task.cancel()
        self.by_shard[rec.shard].discard(key)
        self._index_secret(rec, remove=True)
        self._set_demand(rec, None, 0.0)
        self.metrics.resource_gone(*key)
        self.metrics.watched.set(len(self.records))
        if self.owns(rec.shard):
            self.metrics.owned.dec()

    def demand(self, rec: Record, budget: BudgetKey, interval: float) -> str | None:
        """Count this resource against its provider budget; a note for its status when the budget is short."""
        self._set_demand(rec, budget, 1.0 / interval)
        rate = self.settings.rate_limit
        need = self._demand[budget]
        if need <= rate:
            return None
        return (
            f"polls run late: {self._demand_count[budget]} resources share one provider budget of {rate:g} "
            f"calls/s (--rate-limit) but need {need:.1f}/s, so each is polled about every "
            f"{interval * need / rate:.0f}s instead of {interval:.0f}s"
        )

    def _set_demand(self, rec: Record, budget: BudgetKey | None, share: float) -> None:
        if rec.budget == budget and rec.demand == share:
            return
        if rec.budget is not None:
            self._demand[rec.budget] -= rec.demand
            self._demand_count[rec.budget] -= 1
            self._export_demand(rec.budget)
            if self._demand_count[rec.budget] <= 0:
                del self._demand[rec.budget], self._demand_count[rec.budget]
        rec.budget, rec.demand = budget, share
        if budget is not None:
            self._demand[budget] += share
            self._demand_count[budget] += 1
            self._export_demand(budget)

    def _export_demand(self, budget: BudgetKey) -> None:
        provider, account, _ = budget
        label = hashlib.sha256(f"{account}\0{budget[2]}".encode()).hexdigest()[:8]
        count = self._demand_count.get(budget, 0)
        if count <= 0:
            with contextlib.suppress(KeyError):
                self.metrics.budget_demand.remove(provider, label)
            return
        self.metrics.budget_demand.labels(provider, label).set(
            self._demand[budget] / self.settings.rate_limit
        )

    # ----- running

    async def run(self) -> None:
        """Work until cancelled."""
        assert self.reconciler is not None, "the app wires a reconciler before running the engine"
        self._tasks = [asyncio.create_task(self.queue.dispatch(), name="engine-dispatch")]
        self._tasks += [
            asyncio.create_task(self._work(), name=f"engine-worker-{n}") for n in range(self.settings.workers)
        ]
        self._tasks.append(asyncio.create_task(self._report(), name="engine-report"))
        try:
            await asyncio.gather(*self._tasks)
        finally:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def drain(self, grace: float) -> None:
        """Stop taking work; let passes in flight finish (their writes land) for up to `grace` seconds."""
        self.queue.close()
        running = [t for t in self._running.values() if not t.done()]
        if running:
            logger.info("finishing %d pass(es) in flight", len(running))
            _, pending = await asyncio.wait(running, timeout=grace)
            for task in pending:
                task.cancel()
        for task in self._tasks:
            task.cancel()

    async def _report(self) -> None:
        while True:
            self.metrics.queue_due.set(self.queue.due_now())
            self.metrics.queue_in_flight.set(self.queue.in_flight)
            await asyncio.sleep(5.0)  # a sampling period, not a wait for an event

    async def _work(self) -> None:
        while True:
            item = await self.queue.get()
            key = item.key
            try:
                rec = self.records.get(key)
                # A drain stops new work: keys already handed towards the workers wait, as the rest.
                if self.queue.closed or rec is None or not self.owns(rec.shard):
                    continue
                task = asyncio.create_task(self._pass(rec), name=f"pass:{key[0]}/{key[1]}")
                self._running[key] = task
                try:
                    await task
                except asyncio.CancelledError:
                    current = asyncio.current_task()
                    if current is not None and current.cancelling():
                        raise  # the worker itself is stopping
                finally:
                    self._running.pop(key, None)
            finally:
                self.queue.done(key)

    async def _pass(self, rec: Record) -> None:
        assert self.reconciler is not None
        self.passes += 1
        now = self.clock()
        full = rec.poll_due is not None and now >= rec.poll_due - 0.001
        try:
            if full:
                result = await self.reconciler.poll(rec, scheduled=not rec.woken)
            elif rec.seen_digest != rec.ours_digest:
                result = await self.reconciler.repair(rec)
            elif rec.unannounced is not None:
                result = await self.reconciler.announce(rec)
            else:
                result = Done(None)
        except Gone:
            self._forget(rec.key)
            return
        except NotOwner:
            # The shard's lease was too close to expiry to write under. Renewed, the resource is
            # still ours and must stay scheduled; lost, `own` has forgotten it (and schedules it
            # afresh if the shard comes back).
            if self.owns(rec.shard):
                self.queue.add(rec.key, KUBE_RETRY)
            return
        except Exception:
            logger.exception("unexpected error in a pass over %s/%s", *rec.key)
            result = Later(BUG_RETRY)
        if isinstance(result, Later):
            self.queue.add(rec.key, result.delay)
            return
        if full:
            rec.woken = False
            rec.poll_due = None if result.next_poll is None else self.clock() + result.next_poll
        if rec.poll_due is not None:
            self.queue.add(rec.key, rec.poll_due - self.clock())
