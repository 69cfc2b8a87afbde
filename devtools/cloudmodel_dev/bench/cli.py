"""`cloudmodel-dev bench`: flags to pick sizes, rows and windows; `--quick` for development."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from cloudmodel_dev.bench.config import ROWS, BenchConfig, quick


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(sorted(int(part.replace("_", "")) for part in text.split(",") if part.strip()))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"sizes are comma-separated numbers: {exc}") from exc
    if not sizes or min(sizes) < 4:
        raise argparse.ArgumentTypeError("give at least one size of 4 or more (one resource per provider)")
    return sizes


def _rows(text: str) -> frozenset[str]:
    rows = frozenset(part.strip() for part in text.split(",") if part.strip())
    unknown = rows - set(ROWS)
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown rows {', '.join(sorted(unknown))}; rows are {', '.join(ROWS)}"
        )
    return rows


def add_parser(commands: Any) -> None:
    bench = commands.add_parser(
        "bench",
        help="measure the operator against the API server's raw limit and a plain-Kopf peer (docs/performance.md)",
    )
    bench.add_argument(
        "--quick", action="store_true", help="sizes 200 and 500, 10 s poll interval: a few minutes"
    )
    bench.add_argument(
        "--sizes", type=_sizes, help="comma-separated resource counts (default 1000,3000,10000)"
    )
    bench.add_argument("--rows", type=_rows, help=f"only these rows (comma-separated: {', '.join(ROWS)})")
    bench.add_argument("--skip", type=_rows, default=frozenset(), help="leave these rows out")
    bench.add_argument("--interval", type=int, help="spec.pollInterval in seconds (default 60; quick 10)")
    bench.add_argument(
        "--steady-intervals", type=int, help="steady window at the largest size, in intervals (3)"
    )
    bench.add_argument("--churn-rounds", type=int, help="churn rounds, one per interval (1)")
    bench.add_argument("--ha-size", type=int, help="resources for the failover and sharding rows (3000)")
    bench.add_argument(
        "--budget-minutes", type=float, help="skip rows not started by then (default 24; quick 15)"
    )
    bench.add_argument(
        "--out", type=Path, default=Path(".bench"), help="where results and profiles go (.bench)"
    )
    bench.add_argument(
        "--render",
        type=Path,
        metavar="RESULTS_JSON",
        help="print the table and goals of an earlier run's results (nothing is measured)",
    )


def config_from(args: argparse.Namespace) -> BenchConfig:
    config = quick() if args.quick else BenchConfig()
    changes: dict[str, Any] = {"out_dir": args.out}
    if args.sizes:
        changes["sizes"] = args.sizes
    rows = args.rows if args.rows else config.rows
    changes["rows"] = frozenset(rows - args.skip)
    if args.interval:
        if args.interval < 10:
            raise SystemExit("--interval must be at least 10 (the CRD's minimum pollInterval)")
        changes["interval"] = args.interval
    if args.steady_intervals:
        changes["steady_intervals"] = args.steady_intervals
    if args.churn_rounds:
        changes["churn_rounds"] = args.churn_rounds
    if args.ha_size:
        changes["ha_size"] = args.ha_size
    if args.budget_minutes:
        changes["budget_seconds"] = args.budget_minutes * 60
    return dataclasses.replace(config, **changes)


def main(args: argparse.Namespace) -> int:
    if args.render:
        from cloudmodel_dev.bench import report
        from cloudmodel_dev.bench.results import Results

        results = Results.model_validate_json(args.render.read_text())
        results.goals = report.goals(results)  # with today's goal checks
        print(report.render(results))
        return 0
    from cloudmodel_dev.bench.runner import main as run_main

    return run_main(config_from(args))
