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
    others: dict[str, ProcessFigures]  # kube-apiserver, etcd, simulator, the benchmark itself
    status_bytes_mean: float | None


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


class RestartRow(_Row):
    bound_s: float
    resources: int
    polled: int  # targets called at least once since the new process started
    kill_to_all_polled_s: float | None
    start_to_all_polled_s: float | None
    writes_watch: int
    writes_operator: float | None
    process: ProcessFigures


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


class SizeResult(_Row):
    n: int
    created: int = 0
    create_seconds: float | None = None
    limit: LimitRow | None = None
    watch_only: WatchOnlyRow | None = None
    convergence: ConvergenceRow | None = None
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
    identity: str
    status_writes: float | None
    provider_calls: float | None
    process: ProcessFigures


class HaRow(_Row):
    available: bool
    reason: str | None = None
    details: dict[str, object] = Field(default_factory=dict)


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
    goals: list[Goal] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
