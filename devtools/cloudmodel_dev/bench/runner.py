"""One benchmark run: the schedule of rows over the sizes, then the table and the JSON."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import subprocess
import sys
import time
from collections.abc import Coroutine, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cloudmodel_dev import controlplane
from cloudmodel_dev.bench import (
    fleet,
    processes,
    procstat,
    report,
    rows_api,
    rows_operator,
    rows_peer,
    rows_standby,
    snapshots,
)
from cloudmodel_dev.bench.config import OPERATOR_ROWS, BenchConfig
from cloudmodel_dev.bench.context import RESERVED_TARGETS, Bench
from cloudmodel_dev.bench.kubeapi import Kube, KubeConfig
from cloudmodel_dev.bench.operator import HA_FLAGS, missing_flags, run_help
from cloudmodel_dev.bench.processes import Proc
from cloudmodel_dev.bench.results import (
    ConvergenceRow,
    HaRow,
    LoadSample,
    Results,
    SizeResult,
    Stop,
    WatchHealth,
)
from cloudmodel_dev.bench.schedule import expected_seconds, plan
from cloudmodel_dev.bench.simclient import SimulatorClient
from cloudmodel_dev.bench.tracker import Tracker


def _kubectl(plane: controlplane.ControlPlane, *args: str) -> None:
    subprocess.run(  # noqa: S603 - our kubectl
        [str(plane.kubectl), f"--kubeconfig={plane.kubeconfig_path()}", *args],
        check=True,
        capture_output=True,
        timeout=120,
    )


def _commit() -> str | None:
    result = subprocess.run(  # noqa: S603
        ["git", "-C", str(controlplane.repo_root()), "describe", "--always", "--dirty"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or None


def _config_summary(config: BenchConfig) -> dict[str, object]:
    raw = dataclasses.asdict(config)
    raw["rows"] = sorted(config.rows)
    raw["out_dir"] = str(config.out_dir)
    return raw


async def _wanted(bench: Bench, size: SizeResult | None, row: str, n: int, *, required: bool = False) -> bool:
    """Whether to run a row: selected (or `required` by others), and it fits in the time budget."""
    if not bench.config.runs_at(row, n) and not required:
        if row in bench.config.rows and size is not None:
            only = "smallest" if row in bench.config.smallest_only else "largest"
            size.skipped[row] = f"{only} size only"
        return False
    needed = expected_seconds(bench.config, row, n)
    if bench.elapsed() + needed > bench.config.budget_seconds:
        reason = f"time budget: ~{needed:.0f} s needed, {max(0.0, bench.config.budget_seconds - bench.elapsed()):.0f} s left"
        if size is not None:
            size.skipped[row] = reason
        else:
            bench.results.notes.append(f"{row} skipped: {reason}")
        bench.log(f"skipping {row} at {n:,}: {reason}")
        return False
    return True


async def run_size(bench: Bench, n: int, *, with_peer: bool) -> SizeResult:
    config = bench.config
    size = SizeResult(n=n, load=[bench.note_load(f"size {n}")])
    bench.results.sizes.append(size)
    created, seconds = await rows_api.create_up_to(bench, n)
    size.created, size.create_seconds = created, round(seconds, 2)
    bench.log(f"{n:,}: created {created:,} resources in {seconds:.1f} s")

    # The limit row is also what makes every status stale before the operator starts: always run.
    with _timed(size, "limit"):
        size.limit = await rows_api.limit(bench, n)
    bench.log(f"{n:,}: limit {size.limit.writes_per_s:.0f} writes/s ({size.limit.errors} errors)")
    if await _wanted(bench, size, "watch-only", n):
        with _timed(size, "watch-only"):
            size.watch_only = await rows_api.watch_only(bench, n)
        bench.log(f"{n:,}: Kopf watch-only listed={size.watch_only.listed} in {size.watch_only.seconds} s")
    if await _wanted(bench, size, "standby", n):
        with _timed(size, "standby"):
            size.standby = await rows_standby.standby(bench, n)
        bench.log(f"{n:,}: operator standby listed={size.standby.listed} in {size.standby.seconds} s")

    # Convergence comes first whenever any operator row is wanted: the others start from it.
    operator_rows = config.rows & OPERATOR_ROWS
    if operator_rows and await _wanted(bench, size, "convergence", n, required=True):
        bench.note_load(f"operator {n}")
        with _timed(size, "convergence"):
            running, size.convergence = await rows_operator.convergence(bench, n, f"{n}")
        c = size.convergence
        bench.log(
            f"{n:,}: convergence {'in ' + str(c.seconds) + ' s' if c.converged else 'FAILED'}: {c.fresh:,}/{n:,}"
        )
        later = ("responsiveness", "steady", "churn", "restart")
        if not running.converged:
            for row in later:
                size.skipped[row] = "did not converge"
        else:
            if await _wanted(bench, size, "responsiveness", n):
                with _timed(size, "responsiveness"):
                    size.responsiveness = await rows_operator.responsiveness(bench, config.new_resources)
                bench.log(f"{n:,}: new resource -> status {size.responsiveness.new_resource_s}")
            if await _wanted(bench, size, "steady", n):
                bench.note_load(f"steady {n}")
                with _timed(size, "steady"):
                    size.steady = await rows_operator.steady(bench, running, n, config.steady_for(n))
                bench.log(
                    f"{n:,}: steady writes={size.steady.status_writes_watch} calls={size.steady.provider_calls}"
                )
            if await _wanted(bench, size, "churn", n):
                with _timed(size, "churn"):
                    size.churn = await rows_operator.churn(bench, running, n)
                bench.log(
                    f"{n:,}: churn {size.churn.changes} changes, {size.churn.writes_changed}+{size.churn.writes_unchanged} writes"
                )
            if await _wanted(bench, size, "restart", n):
                with _timed(size, "restart"):
                    running, size.restart = await rows_operator.restart(bench, running, n, f"{n}-restarted")
                bench.log(
                    f"{n:,}: restart all polled after {size.restart.kill_to_all_polled_s} s, {size.restart.writes_watch} writes"
                )
        stopped = await running.operator.proc.stop(grace=20)
        await running.operator.aclose()
        size.operator_stop = Stop(how=stopped.how, seconds=round(stopped.seconds, 2))

    if await _wanted(bench, size, "default-budget", n):
        with _timed(size, "default-budget"):
            size.convergence_default_budget = await default_budget(bench, n)
        c = size.convergence_default_budget
        bench.log(f"{n:,}: convergence at the default Kubernetes budget: {c.seconds} s ({c.fresh:,}/{n:,})")

    if with_peer:
        await run_peer(bench, size)
    return size


async def default_budget(bench: Bench, n: int) -> ConvergenceRow:
    """Convergence again, on fresh stale statuses, with the operator's default --kube-qps/--kube-burst."""
    await rows_api.stale_pass(bench, bench.members(n), f"default-budget-{n}")
    running, row = await rows_operator.convergence(bench, n, f"{n}-default-budget", raise_kube_budget=False)
    await running.operator.proc.stop(grace=20)
    await running.operator.aclose()
    return row


async def run_peer(bench: Bench, size: SizeResult) -> None:
    """The peer row. At the largest size it runs last and gets what is left of the budget."""
    n, config = size.n, bench.config
    bound = config.peer_bound(n)
    if n == max(config.sizes):
        left = config.budget_seconds - bench.elapsed() - ELASTIC_RESERVE
        if left < MIN_PEER_BOUND and "peer" in config.rows:
            size.skipped["peer"] = f"time budget: {max(left, 0):.0f} s left"
            return
        bound = min(bound, left)
    elif not await _wanted(bench, size, "peer", n):
        return
    if "peer" in config.rows:
        bench.note_load(f"peer {n}")
        with _timed(size, "peer"):
            size.peer = await rows_peer.peer(bench, n, bound)
        p = size.peer
        bench.log(
            f"{n:,}: peer {'in ' + str(p.seconds) + ' s' if p.converged else 'did not converge'} ({p.fresh:,}/{n:,})"
        )


ELASTIC_RESERVE = 30.0  # seconds kept for stopping the peer and writing the results
MIN_PEER_BOUND = 45.0


async def run_ha(bench: Bench, missing: list[str]) -> None:
    from cloudmodel_dev.bench import rows_ha

    wanted = [row for row in ("failover", "sharding") if row in bench.config.rows]
    if not wanted:
        return
    if missing:
        reason = f"not available in this build (`cloudmodel run` has no {', '.join(missing)})"
        for row in wanted:
            setattr(bench.results, row, HaRow(available=False, reason=reason))
        return
    n = bench.config.ha_size
    if n > bench.created:
        await rows_api.create_up_to(bench, n)
    for row in wanted:
        if not await _wanted(bench, None, row, n):
            setattr(
                bench.results,
                row,
                HaRow(available=False, reason="skipped: not enough time left in the budget"),
            )
            continue
        bench.note_load(row)
        result = await (rows_ha.failover(bench, n) if row == "failover" else rows_ha.sharding(bench, n))
        setattr(bench.results, row, result)
        bench.log(f"{row}: " + "; ".join(report.ha_lines(row, result)))


@contextlib.contextmanager
def _timed(size: SizeResult, row: str) -> Iterator[None]:
    """Record the row's wall time (the schedule's estimates are checked against these)."""
    started = time.monotonic()
    try:
        yield
    finally:
        size.row_seconds[row] = round(time.monotonic() - started, 1)


async def _guarded(bench: Bench, what: str, work: Coroutine[Any, Any, object]) -> None:
    """Run rows; an error ends them but keeps what was measured, and the notes say what broke."""
    try:
        await work
    except Exception as exc:
        bench.results.notes.append(f"{what} stopped on an error: {exc!r} (logs in {bench.run_dir})")
        bench.log(f"error in {what}: {exc!r}")
        await processes.stop_all()


def write_results(config: BenchConfig, results: Results, stamp: str) -> Path:
    config.out_dir.mkdir(parents=True, exist_ok=True)
    path = config.out_dir / f"results-{stamp}.json"
    path.write_text(json.dumps(results.model_dump(mode="json"), indent=2))
    return path


async def run(config: BenchConfig) -> Results:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = (config.out_dir / f"run-{stamp}").resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    results = Results(
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        quick=config.quick,
        commit=_commit(),
        config=_config_summary(config),
        cpus=os.cpu_count() or 0,
    )
    help_text = run_help()
    missing = missing_flags(help_text, HA_FLAGS)
    results.operator_flags_missing = missing
    with controlplane.start() as plane:
        _kubectl(
            plane, "apply", "--server-side", "--force-conflicts", "-k", str(controlplane.repo_root() / "crds")
        )
        _kubectl(
            plane,
            "wait",
            "--for=condition=Established",
            "crd/cloudmodelservices.cloudmodel.io",
            "--timeout=60s",
        )
        kubeconfig = plane.kubeconfig_path()
        kube = Kube(KubeConfig.load(kubeconfig), connections=config.limit_concurrency + 8)
        scenario = run_dir / "scenario.json"
        largest = max((*config.sizes, config.ha_size))
        scenario.write_text(json.dumps(fleet.scenario(largest + RESERVED_TARGETS)))
        port = controlplane.free_port()
        simulator = Proc(
            "simulator",
            [sys.executable, "-m", "cloudmodel_dev.bench.simprocess", str(scenario), str(port)],
            run_dir / "simulator.log",
        ).start()
        sim = SimulatorClient(f"http://127.0.0.1:{port}")
        tracker = Tracker(kubeconfig, run_dir / "watch.log")
        try:
            await sim.wait_ready(120)
            await tracker.start()
            pids = {
                "kube-apiserver": procstat.find_pids(f"--token-auth-file={plane.workdir}/tokens.csv")[0],
                "etcd": procstat.find_pids(f"--data-dir={plane.workdir / 'etcd'}")[0],
                "simulator": simulator.pid,
                "bench": os.getpid(),
                "bench-watch": tracker.pid or os.getpid(),
            }
            bench = Bench(config, run_dir, kubeconfig, kube, tracker, sim, sim.url, pids, results)
            bench.help_text = help_text
            results.operator_command = bench.operator("example").args
            bench.log(f"control plane at {plane.server}, simulator at {sim.url}, output in {run_dir}")
            bench.log(
                f"planned ~{plan(config, ha=not missing) / 60:.0f} min if the operator behaves; budget {config.budget_seconds / 60:.0f} min"
            )
            # The largest size's peer goes last: it is the row most likely to collapse, and the one
            # the time budget gives up first.
            for n in config.sizes:
                await _guarded(
                    bench, f"the rows at {n:,}", run_size(bench, n, with_peer=n != max(config.sizes))
                )
                write_results(config, results, stamp)
            await _guarded(bench, "the HA rows", run_ha(bench, missing))
            if results.sizes and results.sizes[-1].n == max(config.sizes):
                await _guarded(bench, "the peer at the largest size", run_peer(bench, results.sizes[-1]))
            terminated = await snapshots.terminated_watchers(kube)
            if terminated:
                results.notes.append(
                    "the API server closed watches it judged unresponsive (apiserver_terminated_watchers_total, "
                    "every client's: the operators', Kopf's and the benchmark's): "
                    + ", ".join(f"{resource} {count:.0f}" for resource, count in sorted(terminated.items()))
                    + f"; the benchmark's own watch resumed {len(tracker.resumes)} time(s) from its last version"
                )
            results.watch = WatchHealth(
                events=len(tracker.events),
                resumed=tracker.resumes,
                relisted=tracker.relists,
                inferred_writes=sum(1 for seen in tracker.events if seen.from_relist),
                terminated_watchers=terminated,
            )
            if tracker.relists:
                results.notes.append(
                    f"the benchmark's watch had to list again {len(tracker.relists)} time(s) "
                    f"({'; '.join(tracker.relists)}); {results.watch.inferred_writes} write(s) were "
                    "inferred from changed resourceVersions (every verdict is a LIST's anyway)"
                )
        finally:
            one, five, fifteen = procstat.load_average()
            at = datetime.now(UTC).isoformat(timespec="seconds")
            results.load.append(LoadSample(at=at, phase="end", load1=one, load5=five, load15=fifteen))
            await processes.stop_all()
            await tracker.stop()
            await sim.aclose()
            await simulator.stop(grace=5)
            await kube.aclose()
    results.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
    results.seconds = round(time.monotonic() - started, 1)
    results.goals = report.goals(results)
    path = write_results(config, results, stamp)
    print(report.render(results), flush=True)
    print(f"\nresults: {path}", flush=True)
    return results


def main(config: BenchConfig) -> int:
    asyncio.run(run(config))
    return 0
