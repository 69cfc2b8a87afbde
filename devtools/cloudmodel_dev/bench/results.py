"""The shape of a run's results: what the JSON holds and the table is printed from."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProcessFigures(_Row):
    cpu_seconds: float
    cpu_per_minute: float | None = None  # CPU seconds per minute of wall time; 60 = one core
    rss_mb: float | None = None
    peak_rss_mb: float | None = None


class ListCheck(_Row):
    """A row's resources on a fresh LIST at its end (see `verdict`); times are epoch seconds."""

    at: float  # when the LIST started
    since: float  # the row's start: writes and fetches at or after it count
    resources: int  # names checked
    present: int
    stale_marker: int  # still carry the benchmark's stale document
    synced: int  # say Synced=True (and are not the stale document)
    fresh: int  # and have a lastSyncTime at or after `since`
    written_since: int  # an operator replica changed the status at or after `since` (managedFields)
    several_writers: int  # more than one operator replica did
    by_writer: dict[str, int]  # the last operator writer since `since` -> resources
    last_write_time: float | None  # newest operator managedFields time among them (whole seconds)
    exclusive: bool = False  # only writes stamped in a later second than `since` counted
    not_written_sample: list[str] = Field(default_factory=list)  # a few of those not written


class Stop(_Row):
    how: str
    seconds: float


class LimitRow(_Row):
    writes: int
    seconds: float
    writes_per_s: float
    concurrency: int
    errors: int
    first_error: str | None = None
    document_bytes: int
    processes: dict[
        str, ProcessFigures
    ]  # the writer (a whole core = the client is the limit), apiserver, etcd


class ConvergenceRow(_Row):
    bound_s: float
    converged: bool
    seconds: float | None  # process start -> last resource with a fresh status
    fresh: int  # resources with a successful fetch written since the start
    resources: int
    first_status_s: float | None
    writes_watch: int  # status writes seen on the watch during the row
    writes_operator: float | None  # the operator's own counter
    writes_per_s: float | None  # resources / seconds (from process start)
    writes_per_s_after_first: float | None  # resources / (last - first status)
    ratio_to_limit: float | None
    failing: dict[str, int] = Field(
        default_factory=dict
    )  # at the end: resources whose status says fetching fails, by reason
    process: ProcessFigures
    killed_by: str | None = None  # a bound the watchdog enforced
    kube_budget: str = "raised"  # "raised" (--kube-qps/--kube-burst of the config) or "default"
    checked: ListCheck | None = None  # the verdict: every resource fresh on a LIST at the end
    dated_by: str = "watch"  # "watch", or "managedFields" when the watch missed the last writes
    repairs_operator: float | None = None  # cloudmodel_status_repairs_total at the end


class ResponsivenessRow(_Row):
    new_resource_s: list[float | None]
    new_resource_p50_s: float | None
    new_resource_max_s: float | None


class SteadyRow(_Row):
    intervals: int
    seconds: float
    status_writes_watch: int
    status_writes_operator: float | None
    provider_calls: int
    provider_calls_per_interval: float
    distinct_targets_per_interval: list[int]
    expected_per_interval: int
    provider_outcomes: dict[str, int]
    secret_gets: float
    secret_gets_per_interval: float
    api_requests_per_s: dict[str, float]  # by verb, resource requests only
    api_requests_by_resource: dict[str, float]  # "VERB resource[/subresource]" -> count in window
    process: ProcessFigures
    cpu_ms_per_poll: float | None
    lateness_operator_p50_s: float | None
    lateness_operator_p99_s: float | None
    lateness_independent_p50_s: float | None
    lateness_independent_p99_s: float | None
    gap_p50_s: float | None
    gap_p99_s: float | None
    others: dict[str, ProcessFigures]  # kube-apiserver, etcd, simulator, the benchmark and its watch
    status_bytes_mean: float | None
    repairs_operator: float | None = None  # cloudmodel_status_repairs_total delta
    list_written: int | None = None  # resources an operator replica wrote in the window (LIST)


class ChurnRow(_Row):
    rounds: int
    changes: int
    writes_changed: int  # status writes on resources whose target changed
    writes_unchanged: int  # status writes on all the others (should be 0)
    writes_operator: float | None
    unobserved: int  # changes with no status write before the bound
    latency_p50_s: float | None  # provider change -> status write
    latency_p99_s: float | None
    latency_max_s: float | None
    bound_s: float
    list_written_changed: int | None = None  # changed resources written since the change (LIST)
    list_written_unchanged: int | None = None  # the others written since the change (LIST): 0


class RestartRow(_Row):
    bound_s: float
    resources: int
    polled: int  # targets called at least once since the new process started
    kill_to_all_polled_s: float | None
    start_to_all_polled_s: float | None
    writes_watch: int
    writes_operator: float | None
    process: ProcessFigures
    repairs_operator: float | None = None
    list_written: int | None = None  # resources an operator replica wrote since the kill (LIST): 0


class PeerTick(_Row):
    """From the peer's convergence until every object's second status write: one tick of each."""

    seconds: float
    objects_ticked: int
    status_writes_watch: int
    provider_calls: int
    secret_gets: float
    process: ProcessFigures


class PeerRow(_Row):
    bound_s: float
    converged: bool
    seconds: float | None
    fresh: int
    resources: int
    writes_per_s: float | None
    handler_failures: int = 0  # "failed with an exception" in its log while converging
    killed_by: str | None
    process: ProcessFigures
    tick: PeerTick | None
    stop: Stop | None


class WatchOnlyRow(_Row):
    listed: bool
    seconds: float | None
    process: ProcessFigures
    stop: Stop | None


class StandbyRow(_Row):
    """`cloudmodel run` kept standby by a Lease the benchmark holds: its informer, nothing else."""

    listed: bool  # cloudmodel_watched_resources reached N
    seconds: float | None  # process start -> all N known (imports and the initial list included)
    process: ProcessFigures  # CPU seconds since start and RSS when all N were known
    idle_window_s: float  # then a quiet window: what watching costs while nothing changes
    idle: ProcessFigures | None
    provider_calls: float | None  # its own counter: 0 for a standby
    status_writes: float | None  # 0 for a standby
    stop: Stop | None


class SizeResult(_Row):
    n: int
    created: int = 0
    create_seconds: float | None = None
    limit: LimitRow | None = None
    watch_only: WatchOnlyRow | None = None
    standby: StandbyRow | None = None
    convergence: ConvergenceRow | None = None
    convergence_default_budget: ConvergenceRow | None = None  # smallest size only
    responsiveness: ResponsivenessRow | None = None
    steady: SteadyRow | None = None
    churn: ChurnRow | None = None
    restart: RestartRow | None = None
    peer: PeerRow | None = None
    operator_stop: Stop | None = None
    skipped: dict[str, str] = Field(default_factory=dict)
    load: list[float] = Field(default_factory=list)  # 1-minute load average when the size started
    row_seconds: dict[str, float] = Field(default_factory=dict)  # wall time each row took


class ReplicaFigures(_Row):
    """One replica over one phase of an HA row: its own counters, the Leases it holds, what it wrote."""

    identity: str
    status_writes: float | None  # cloudmodel_status_writes_total over the phase
    repairs: float | None  # cloudmodel_status_repairs_total over the phase
    write_failures: float | None = None  # cloudmodel_status_write_failures_total over the phase
    provider_calls: float | None  # cloudmodel_provider_requests_total over the phase
    shards: int  # shard Leases it holds at the phase's end
    last_writer_of: int  # resources whose status it wrote last during the phase (LIST, managedFields)
    process: ProcessFigures  # CPU over the phase, RSS at its end


class WriteSpread(_Row):
    """Operator status writes per resource in a phase, from the watch."""

    written_once: int
    written_more_than_once: int
    not_written: int


class HaPhase(_Row):
    label: str
    resources: int
    # The LIST at the end: every resource written by an operator replica since the phase began,
    # none still stale, all Synced.
    converged: bool
    seconds: float | None  # from the phase's start (or the end of its stale pass) to the last write
    stale_pass_s: float | None = None  # a stale pass made while the replicas ran, and how long it took
    watch: WriteSpread
    checked: ListCheck
    replicas: list[ReplicaFigures]

    @property
    def one_writer_each(self) -> bool:
        """Every resource written during the phase by exactly one process (managedFields)."""
        c = self.checked
        return (
            c.written_since == c.resources
            and c.several_writers == 0
            and c.stale_marker == 0
            and c.synced == c.resources
        )


class FailoverRow(_Row):
    resources: int
    lease_duration_s: float
    leader: str
    survivor: str
    before: HaPhase  # the two replicas from a stale pass until every resource is written
    seconds_until_survivor_acquired: float | None  # from the kill, by the Lease's acquireTime
    seconds_until_all_polled_by_survivor: float | None  # from the kill, by the simulator's call log
    bound_s: float
    writes_caused_watch: int  # status writes from the kill until all polled (+2 s): 0 expected
    written_since_kill_list: int  # resources an operator replica wrote since the kill (LIST): 0 expected
    survivor_holds: list[str]
    survivor_after: ReplicaFigures


class ShardingRow(_Row):
    resources: int
    shards: int
    replicas: int
    three: HaPhase
    killed: str | None = None
    seconds_until_shards_moved: float | None = None
    after_kill: HaPhase | None = None


class HaRow(_Row):
    available: bool
    reason: str | None = None
    failover: FailoverRow | None = None
    sharding: ShardingRow | None = None


class Profile(_Row):
    phase: str
    n: int
    files: dict[str, str]


class Goal(_Row):
    name: str
    target: str
    measured: str
    met: bool | None  # None: not measured in this run


class LoadSample(_Row):
    at: str
    phase: str
    load1: float
    load5: float
    load15: float


class WatchHealth(_Row):
    """How the benchmark's own watch fared (see `watchproc`)."""

    events: int  # events taken in (and writes inferred on a re-list)
    resumed: list[str]  # the watch ended (server timeout, or closed as too slow) and resumed: nothing missed
    relisted: list[str]  # it had to list again (410 Gone): missed writes were inferred
    inferred_writes: int
    # The API server's own count of watches it closed as unresponsive, every client's together
    # (the operators', Kopf's and the benchmark's), by resource.
    terminated_watchers: dict[str, float]


class Results(_Row):
    started_at: str
    finished_at: str | None = None
    seconds: float | None = None
    quick: bool
    commit: str | None = None  # of the checkout the run was made from
    config: dict[str, object]
    cpus: int
    load: list[LoadSample] = Field(default_factory=list)
    operator_command: list[str] = Field(default_factory=list)
    operator_flags_missing: list[str] = Field(default_factory=list)
    sizes: list[SizeResult] = Field(default_factory=list)
    failover: HaRow | None = None
    sharding: HaRow | None = None
    profiles: list[Profile] = Field(default_factory=list)
    watch: WatchHealth | None = None
    goals: list[Goal] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
