"""How long rows take when the operator behaves: the time budget skips what would not fit.

Clock-bound parts (windows of whole intervals) are exact; work-bound parts use rates of an
operator that meets its goals on a quiet 2-core machine. A slower operator runs into its rows'
bounds instead, and the rows left at the end are the ones the budget gives up.
"""

from __future__ import annotations

from cloudmodel_dev.bench.config import OPERATOR_ROWS, BenchConfig

SETUP_SECONDS = 25.0  # control plane, CRD, simulator
CREATES_PER_S = 400.0
HA_ROWS = frozenset({"failover", "sharding"})
LIMIT_WRITES_PER_S = 200.0
DEFAULT_KUBE_QPS = 20.0  # `cloudmodel run --kube-qps` default: one status write each, at most this fast


def expected_seconds(config: BenchConfig, row: str, n: int) -> float:
    interval, late = config.interval, config.interval * config.jitter
    return {
        "limit": 3 + n / LIMIT_WRITES_PER_S,
        "watch-only": 5 + n / 500,
        "standby": 6 + n / 1000 + config.standby_idle_seconds,
        "default-budget": 15 + n / LIMIT_WRITES_PER_S + n / (0.9 * DEFAULT_KUBE_QPS),
        "convergence": 10 + n / 120,  # the goal: half of a ~240 writes/s limit
        "responsiveness": 2.0 * config.new_resources,
        "steady": config.steady_for(n) * interval + 5,
        "churn": config.churn_rounds * interval + late + 5,
        "restart": interval + late + 5,
        "peer": min(config.peer_bound(n), 10 + n / 25)
        + (interval + late + 5 if config.peer_tick_at(n) else 5),
        "failover": config.ha_lease_duration + interval + late + 15,
        "sharding": 2 * config.ha_lease_duration + 2 * n / LIMIT_WRITES_PER_S + 2 * (10 + n / 120) + 15,
    }.get(row, 0.0)


def plan(config: BenchConfig, *, ha: bool) -> float:
    """Expected seconds for the whole run, without the largest size's peer.

    That peer runs last and is given what is left of the budget (it is where the simple design
    collapses: its bound says so), so it never decides whether the run fits.
    """
    total = SETUP_SECONDS + max(config.sizes) / CREATES_PER_S
    for n in config.sizes:
        rows = {row for row in config.rows - HA_ROWS if config.runs_at(row, n)} | {"limit"}
        if n == max(config.sizes):
            rows.discard("peer")
        if rows & OPERATOR_ROWS:
            rows.add("convergence")
        total += sum(expected_seconds(config, row, n) for row in rows)
    if ha:
        total += sum(
            expected_seconds(config, row, config.ha_size)
            for row in ("failover", "sharding")
            if row in config.rows
        )
    return total
