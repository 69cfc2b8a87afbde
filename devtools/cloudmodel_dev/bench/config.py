"""What one benchmark run does: sizes, rows, windows and bounds (`--quick` is a smaller preset)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

ROWS = (
    "limit",
    "watch-only",
    "standby",
    "convergence",
    "responsiveness",
    "steady",
    "churn",
    "restart",
    "peer",
    "profile",
    "default-budget",
    "failover",
    "sharding",
)
# Rows that need the operator running at a size; without them it is not started at all.
OPERATOR_ROWS = frozenset({"convergence", "responsiveness", "steady", "churn", "restart", "profile"})


@dataclass(frozen=True)
class BenchConfig:
    sizes: tuple[int, ...] = (1000, 3000, 10000)
    interval: int = 60  # spec.pollInterval of every resource, seconds
    rows: frozenset[str] = field(default_factory=lambda: frozenset(ROWS))
    steady_intervals: int = 3  # at the largest size
    steady_intervals_smaller: int = 1  # at the other sizes (linearity needs a figure, not three)
    # Rows that check a property rather than a scaling figure run at the largest size only (the
    # goals are stated there: a new resource's first status, churn, restart, an idle standby);
    # this keeps the whole run under 25 minutes.
    largest_only: frozenset[str] = frozenset({"responsiveness", "churn", "restart", "standby"})
    # What the operator's default Kubernetes budget costs is told once, at the smallest size.
    smallest_only: frozenset[str] = frozenset({"default-budget"})
    peer_tick_everywhere: bool = False  # the peer's tick window at every size (default: the smallest only)
    churn_fraction: float = 0.01  # of the targets changed per round (one round per interval)
    churn_rounds: int = 1
    new_resources: int = 5  # created one at a time for "new resource -> first status"
    limit_concurrency: int = 32  # requests in flight for the raw-limit writer and for creates
    rate_limit: float = 100.0  # operator --rate-limit per account: the budget is not what is measured
    rate_burst: int = 100
    # operator --kube-qps/--kube-burst: the client-side Kubernetes budget raised too (its default,
    # controller-runtime's 20/s, caps writes at 20/s by design), so the engine and the API server
    # are what is measured.
    kube_qps: float = 1000.0
    kube_burst: int = 1000
    standby_idle_seconds: float = 5.0  # the standby row's quiet window
    heartbeat: str = "1h"  # operator --heartbeat: no heartbeat falls due inside a run's windows
    jitter: float = 0.1  # the operator's documented +-10% poll jitter, for the independent lateness
    ha_size: int = 3000
    ha_lease_duration: float = 15.0
    shards: int = 6
    peer_max_rss_mb: int = 2048
    operator_max_rss_mb: int = 4096
    profile_rate: int = 50  # py-spy samples per second
    budget_seconds: float = 24 * 60  # a row that would not fit in what is left is skipped (and says so)
    out_dir: Path = Path(".bench")
    quick: bool = False
    seed: int = 20261130

    def convergence_bound(self, n: int) -> float:
        """Seconds the operator gets to give every resource a status before the row says it did not."""
        return 60.0 + n / 40.0 + (0 if not self.quick else 30)

    def default_budget_bound(self, n: int) -> float:
        """Convergence at the default Kubernetes budget (20 requests/s, burst 30): one write per resource."""
        return 60.0 + n / 15.0 + (0 if not self.quick else 30)

    def peer_bound(self, n: int) -> float:
        # Long enough for a slow peer (~25 objects/s here) to finish; at 10,000 it shows the collapse
        # (the largest size's peer gets at most what is left of the budget).
        return min(60.0 + n / 30.0, 200.0) + (0 if not self.quick else 30)

    def peer_tick_at(self, n: int) -> bool:
        """Whether the peer's second tick is measured at this size (one size tells the per-tick cost)."""
        return self.peer_tick_everywhere or n == min(self.sizes)

    def runs_at(self, row: str, n: int) -> bool:
        if row not in self.rows:
            return False
        if row in self.largest_only and n != max(self.sizes):
            return False
        return row not in self.smallest_only or n == min(self.sizes)

    def steady_for(self, n: int) -> int:
        return self.steady_intervals if n == max(self.sizes) else self.steady_intervals_smaller

    def churn_count(self, n: int) -> int:
        return max(2, round(n * self.churn_fraction))


def quick(base: BenchConfig | None = None) -> BenchConfig:
    """Small sizes and a 10 s interval (the CRD's minimum) for development: a few minutes."""
    return replace(
        base or BenchConfig(),
        sizes=(200, 500),
        interval=10,
        steady_intervals=3,
        steady_intervals_smaller=1,
        churn_fraction=0.02,
        new_resources=3,
        ha_size=500,
        ha_lease_duration=15.0,
        budget_seconds=15 * 60,
        largest_only=frozenset(),
        peer_tick_everywhere=True,
        quick=True,
    )
