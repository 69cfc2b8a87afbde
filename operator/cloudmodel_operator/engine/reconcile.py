"""One pass over one resource: credentials -> budget -> fetch under a deadline -> build -> diff -> write.

Every pass that runs ends in a status that says what happened: a provider answer, a classified
provider failure, a timeout, a refused status, or the operator's own bug (InternalError). The
status is written only when it differs from what the watch shows (level-based: another client's
edit or a wiped status is put back), or to refresh `lastSyncTime` when the heartbeat is due.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from cloudmodel_operator.api.conditions import Reason
from cloudmodel_operator.api.observation import Observation, Phase
from cloudmodel_operator.api.status import CloudModelServiceStatus
from cloudmodel_operator.engine.fetcher import BudgetKey, Fetcher
from cloudmodel_operator.engine.records import Record, digest, pack, unpack
from cloudmodel_operator.engine.schedule import jittered
from cloudmodel_operator.engine.status_builder import (
    ERROR_CLASS_REASON,
    Context,
    FetchFailed,
    Observed,
    Outcome,
    Suspended,
    build_status,
)
from cloudmodel_operator.kube.client import KubeError
from cloudmodel_operator.kube.credentials import CredentialStore
from cloudmodel_operator.kube.events import EventRecorder, ObjectRef
from cloudmodel_operator.kube.status import ResourceGone, StatusRejected, StatusWriter
from cloudmodel_operator.metrics import Metrics
from cloudmodel_operator.providers.base import CredentialsError, ErrorClass, ProviderError
from cloudmodel_operator.providers.endpoints import EndpointNotAllowed
from cloudmodel_operator.redact import redact
from cloudmodel_operator.settings import Settings

logger = logging.getLogger(__name__)

DEFER_ABOVE = 0.05  # seconds: a shorter wait for a budget token is not worth a trip through the queue
KUBE_RETRY = 5.0  # seconds before a pass the API server could not serve is tried again


@dataclass(frozen=True)
class Done:
    """A pass ran; the resource is next polled in `next_poll` seconds (None: only a change wakes it)."""

    next_poll: float | None


@dataclass(frozen=True)
class Later:
    """The pass could not run now (budget, API server): try again in `delay` seconds."""

    delay: float


Result = Done | Later


class Gone(Exception):
    """The resource was deleted or replaced; forget it."""


class NotOwner(Exception):
    """This replica no longer owns the resource's shard (or not for long enough to write)."""


@dataclass
class Reconciler:
    settings: Settings
    fetcher: Fetcher
    credentials: CredentialStore
    writer: StatusWriter
    events: EventRecorder
    metrics: Metrics
    authority: Callable[[int], float]  # seconds this replica is sure to own a shard for
    demand: Callable[[Record, BudgetKey, float], str | None]  # registers budget demand; a note when late
    wall: Callable[[], datetime] = lambda: datetime.now(UTC)
    clock: Callable[[], float] = time.monotonic

    # ----- passes

    async def poll(self, rec: Record, *, scheduled: bool) -> Result:
        """A full pass: observe the provider and write what it says."""
        spec = rec.spec
        outcome: Outcome
        next_poll: float | None
        late_note: str | None = None
        if spec is None:
            outcome = FetchFailed(
                Reason.INVALID_SPEC, rec.spec_error or "the spec cannot be read", retrying=False
            )
            next_poll = None  # only a spec change helps
        elif spec.suspend:
            outcome, next_poll = Suspended(), None
        else:
            interval = spec.poll_interval.total_seconds()
            fetched = await self._fetch(rec, interval, scheduled)
            if isinstance(fetched, Later):
                return fetched
            outcome, late_note = fetched
            if isinstance(outcome, Observed):
                rec.last_success = self.wall().timestamp()
            if isinstance(outcome, Observed) and outcome.observation.counters:
                self.metrics.counters(rec.namespace, rec.name, spec.provider, outcome.observation.counters)
            retrying = not isinstance(outcome, FetchFailed) or outcome.retrying
            next_poll = jittered(interval) if retrying else self.settings.terminal_recheck.total_seconds()
            if self._unchanged(rec, outcome, late_note):
                self.metrics.passes.labels("poll", "unchanged").inc()
                await self.announce(rec)
                return Done(next_poll)
        result = await self._conclude(rec, outcome, late_note)
        if isinstance(result, Later):
            return result
        return Done(next_poll)

    def _unchanged(self, rec: Record, outcome: Outcome, late_note: str | None) -> bool:
        """The same answer as last time, on a status built cleanly from it: nothing to build or write.

        This is the steady state of almost every resource, so it skips the whole status build.
        """
        if not isinstance(outcome, Observed):
            rec.observed_digest = rec.clean_key = None
            return False
        observed = _observation_digest(outcome.observation)
        key = (rec.generation, rec.reconcile_request, late_note)
        same = observed == rec.observed_digest and key == rec.clean_key and rec.seen_digest == rec.ours_digest
        heartbeat_due = (
            rec.last_write is None
            or self.wall().timestamp() - rec.last_write >= self.settings.heartbeat.total_seconds()
        )
        rec.observed_digest, rec.clean_key = observed, key
        return same and not heartbeat_due

    async def _fetch(
        self, rec: Record, interval: float, scheduled: bool
    ) -> Later | tuple[Outcome, str | None]:
        assert rec.spec is not None
        assert rec.secret is not None
        target = rec.spec.target()
        try:
            credentials = await self.credentials.get(rec.namespace, rec.secret)
            key = self.fetcher.key(target, credentials)
        except CredentialsError as exc:
            self.credentials.report(
                rec.namespace, rec.secret, ok=False, error_class="missing", message=str(exc)
            )
            return FetchFailed(
                Reason.CREDENTIALS_MISSING, redact(str(exc)), retrying=False, about_credentials=True
            ), None
        except EndpointNotAllowed as exc:
            return FetchFailed(Reason.ENDPOINT_NOT_ALLOWED, str(exc), retrying=False), None
        except KubeError as exc:
            logger.debug("cannot read Secret %s/%s: %s", rec.namespace, rec.secret, exc)
            return Later(KUBE_RETRY)

        late_note = self.demand(rec, key.budget, interval)
        cached = None if rec.bypass_cache else self.fetcher.cached(key, max_age=0.8 * interval)
        if cached is None and not self.fetcher.in_flight(key) and not rec.token_reserved:
            wait = self.fetcher.bucket(key.budget).reserve()
            if wait > 0:
                self.metrics.rate_limited(key.provider, wait)
            if wait > DEFER_ABOVE:
                rec.token_reserved = True
                return Later(wait)
        rec.token_reserved = False
        rec.bypass_cache = False
        if scheduled and rec.poll_due is not None:
            self.metrics.poll_late(self.clock() - rec.poll_due)
        if isinstance(cached, ProviderError):
            return self._failed(rec, cached), late_note
        if cached is not None:
            self.credentials.report(rec.namespace, rec.secret, ok=True)  # they worked for the shared fetch
            return Observed(cached), late_note
        deadline = min(self.settings.fetch_timeout.total_seconds(), interval / 2)
        try:
            observation = await self.fetcher.fetch(key, credentials, within=deadline)
        except ProviderError as exc:
            return self._failed(rec, exc), late_note
        except TimeoutError:
            host = urlsplit(key.base_url).hostname or key.base_url
            return FetchFailed(
                Reason.PROVIDER_UNREACHABLE,
                f"no complete answer from {host} within {deadline:g}s (the deadline of one fetch, retries included)",
                retrying=True,
                error_class=ErrorClass.TRANSIENT.value,
            ), late_note
        except Exception as exc:  # the provider code failed: our bug, said in the status, retried
            logger.exception("fetching %s for %s/%s failed unexpectedly", key.target.display, *rec.key)
            return self._internal(exc), late_note
        self.credentials.report(rec.namespace, rec.secret, ok=True)
        return Observed(observation), late_note

    def _failed(self, rec: Record, error: ProviderError) -> FetchFailed:
        about_credentials = error.error_class is ErrorClass.AUTH
        if about_credentials and rec.secret is not None:
            self.credentials.report(
                rec.namespace, rec.secret, ok=False, error_class=error.error_class.value, message=str(error)
            )
        return FetchFailed(
            ERROR_CLASS_REASON[error.error_class],
            redact(str(error)),
            retrying=error.retryable,
            error_class=error.error_class.value,
            code=error.code,
            http_status=error.http_status,
            request_id=error.request_id,
            about_credentials=about_credentials,
        )

    @staticmethod
    def _internal(exc: BaseException) -> FetchFailed:
        return FetchFailed(
            Reason.INTERNAL_ERROR,
            f"the operator failed on this resource ({type(exc).__name__}: {redact(str(exc))[:200]}); "
            "this is a bug, please report it",
            retrying=True,
        )

    async def _conclude(self, rec: Record, outcome: Outcome, late_note: str | None) -> Result:
        previous_doc = unpack(rec.ours)
        previous = CloudModelServiceStatus.from_object(previous_doc)
        if (
            isinstance(outcome, FetchFailed)
            and rec.last_success is not None
            and previous.lastSyncTime is not None
        ):
            # The status's lastSyncTime moves only with a write (or the heartbeat); staleness is
            # counted from the last successful fetch, which may be much later.
            succeeded = datetime.fromtimestamp(rec.last_success, UTC)
            if succeeded > previous.lastSyncTime:
                previous.lastSyncTime = succeeded
        ctx = self._context(rec, late_note)
        try:
            new = build_status(previous, outcome, ctx)
            document = new.document()
        except Exception as exc:  # our bug in the builder: the status must still say something
            logger.exception("building the status of %s/%s failed", *rec.key)
            new = build_status(_without_observation(previous), self._internal(exc), ctx)
            document = new.document()
        new_digest = digest(document)
        observed = isinstance(outcome, Observed)
        heartbeat_due = (
            rec.last_write is None
            or self.wall().timestamp() - rec.last_write >= self.settings.heartbeat.total_seconds()
        )
        # `_unchanged` noted which observation this pass builds from; that note may only stand once
        # `rec.ours` holds the result. A pass that ends before (the shard lost, the task cancelled,
        # the resource gone) must leave the next pass to build and write again, not to skip.
        basis = (rec.observed_digest, rec.clean_key)
        rec.observed_digest = rec.clean_key = None
        if new_digest == rec.seen_digest and not (observed and heartbeat_due):
            rec.ours, rec.ours_digest = pack(document), new_digest
            rec.observed_digest, rec.clean_key = basis
            self.metrics.passes.labels("poll", "unchanged").inc()
            await self.announce(rec)
            return Done(None)
        try:
            await self._write(rec, document)
        except StatusRejected as exc:
            self.metrics.write_failures.labels("rejected").inc()
            document = self._rejected(previous, ctx, exc).document()
            new_digest = digest(document)
            try:
                await self._write(rec, document)
            except StatusRejected:
                logger.error("the API server refuses even the minimal status of %s/%s", *rec.key)
                return Later(self.settings.terminal_recheck.total_seconds())
            except KubeError:
                return Later(KUBE_RETRY)
            new = CloudModelServiceStatus.from_object(document)
        except KubeError as exc:
            self.metrics.write_failures.labels("unavailable").inc()
            logger.debug("writing the status of %s/%s failed: %s", *rec.key, exc)
            # The write may still land (an answer lost to a timeout): rec.ours is what the operator
            # wants there, so a repair never puts an older status back; a later pass or repair
            # writes it. Its Events wait for that write, counted from what was last announced.
            if rec.unannounced is None:
                rec.unannounced = rec.ours or pack({})
            rec.ours, rec.ours_digest = pack(document), new_digest
            rec.observed_digest, rec.clean_key = basis
            return Later(KUBE_RETRY)
        announced = self._last_announced(rec, previous)
        rec.ours, rec.ours_digest, rec.seen_digest = pack(document), new_digest, new_digest
        rec.observed_digest, rec.clean_key = basis
        rec.last_write = self.wall().timestamp()
        self.metrics.passes.labels("poll", "written").inc()
        self.metrics.status_changed(metrics_body(rec), new)
        await self._emit_events(rec, announced, new)
        return Done(None)

    @staticmethod
    def _last_announced(rec: Record, previous: CloudModelServiceStatus) -> CloudModelServiceStatus:
        """What the Events so far said: `previous`, unless writes since then did not surely land."""
        if rec.unannounced is None:
            return previous
        announced = CloudModelServiceStatus.from_object(unpack(rec.unannounced))
        rec.unannounced = None
        return announced

    async def repair(self, rec: Record) -> Result:
        """Put back the status the operator wants where the watch shows something else."""
        document = unpack(rec.ours)
        try:
            await self._write(rec, document)
        except (KubeError, StatusRejected) as exc:
            logger.debug("repairing the status of %s/%s failed: %s", *rec.key, exc)
            return Later(KUBE_RETRY)
        rec.seen_digest = rec.ours_digest
        self.metrics.repairs.inc()
        self.metrics.passes.labels("repair", "written").inc()
        return await self.announce(rec)

    async def announce(self, rec: Record) -> Result:
        """Once the API server shows rec.ours, written by a write that seemed to fail (or a
        repair): post the Events of the transitions it made, counted from the status last announced."""
        if rec.unannounced is not None and rec.seen_digest == rec.ours_digest:
            written = CloudModelServiceStatus.from_object(unpack(rec.ours))
            await self._emit_events(rec, self._last_announced(rec, written), written)
        return Done(None)

    async def _write(self, rec: Record, document: dict[str, object]) -> None:
        timeout = self.settings.write_timeout.total_seconds()
        if self.authority(rec.shard) <= timeout:
            raise NotOwner(f"{rec.namespace}/{rec.name}")
        try:
            await self.writer.write(rec.namespace, rec.name, rec.uid, document, within=timeout)
        except ResourceGone as exc:
            raise Gone(str(exc)) from exc
        logger.debug("wrote the status of %s/%s", rec.namespace, rec.name)

    # ----- helpers

    def _context(self, rec: Record, late_note: str | None) -> Context:
        spec = rec.spec
        interval = spec.poll_interval if spec is not None else timedelta(seconds=60)
        return Context(
            generation=rec.generation,
            target=spec.target().display if spec is not None else "",
            provider=spec.provider if spec is not None else "",
            now=self.wall(),
            stale_after=interval * self.settings.stale_after_polls,
            secret=rec.secret,
            reconcile_request=rec.reconcile_request,
            late_note=late_note,
        )

    def _rejected(
        self, previous: CloudModelServiceStatus, ctx: Context, exc: StatusRejected
    ) -> CloudModelServiceStatus:
        failed = FetchFailed(
            Reason.STATUS_REJECTED,
            f"the API server refused the status (HTTP {exc.status}): {redact(exc.message)[:300]}; "
            "the observation is left out",
            retrying=True,
        )
        return build_status(_without_observation(previous), failed, ctx)

    async def _emit_events(
        self, rec: Record, previous: CloudModelServiceStatus, new: CloudModelServiceStatus
    ) -> None:
        ref = ObjectRef(rec.namespace, rec.name, rec.uid)
        before = previous.phase if previous.conditions else None
        warning = new.phase in (Phase.FAILED, Phase.DEGRADED)
        # The first phase of a healthy resource says nothing the status does not (and thousands of
        # new resources would double the writes); a first phase that is a problem is worth an Event.
        first = before is None
        if new.phase is not before and (not first or (new.lastSyncTime is not None and warning)):
            ready = new.condition("Ready")
            why = f" ({ready.reason})" if ready is not None and new.phase is Phase.UNKNOWN else ""
            detail = f": {new.message}" if new.message and new.phase is not Phase.UNKNOWN else ""
            state = f" (provider state {new.providerState!r})" if new.providerState and not why else ""
            await self.events.record(
                ref,
                "Warning" if warning else "Normal",
                "PhaseChanged",
                f"phase {before.value if before else 'none'} -> {new.phase.value}{why}{state}{detail}",
            )
        if new.failure is not None and (
            previous.failure is None or previous.failure.reason != new.failure.reason
        ):
            await self.events.record(
                ref, "Warning", new.failure.reason, f"fetching {new.target} failed: {new.failure.message}"
            )
        if previous.failure is not None and new.failure is None:
            await self.events.record(
                ref,
                "Normal",
                "Recovered",
                f"fetching {new.target} works again after {previous.failure.consecutiveFailures} failure(s)",
            )


def _observation_digest(observation: Observation) -> bytes:
    dump = observation.model_dump_json(exclude={"requestId"})
    return hashlib.blake2b(dump.encode(), digest_size=16).digest()


def _without_observation(status: CloudModelServiceStatus) -> CloudModelServiceStatus:
    """Only what the operator itself says: conditions, failure, sync times; nothing from the provider."""
    return CloudModelServiceStatus(
        observedGeneration=status.observedGeneration,
        target=status.target,
        lastSyncTime=status.lastSyncTime,
        lastHandledReconcileAt=status.lastHandledReconcileAt,
        failure=status.failure,
        conditions=status.conditions,
    )


def metrics_body(rec: Record) -> dict[str, object]:
    """The minimal object the metrics module labels series with."""
    return {
        "metadata": {"namespace": rec.namespace, "name": rec.name},
        "spec": {"provider": rec.spec.provider if rec.spec is not None else ""},
    }
