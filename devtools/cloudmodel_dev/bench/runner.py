"""One benchmark run: the schedule of rows over the sizes, then the table and the JSON."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from cloudmodel_dev import controlplane
from cloudmodel_dev.bench import fleet, processes, procstat, report, rows_api, rows_operator, rows_peer
from cloudmodel_dev.bench.config import OPERATOR_ROWS, BenchConfig
from cloudmodel_dev.bench.context import RESERVED_TARGETS, Bench
from cloudmodel_dev.bench.kubeapi import Kube, KubeConfig
from cloudmodel_dev.bench.operator import HA_FLAGS, missing_flags, run_help
from cloudmodel_dev.bench.processes import Proc
from cloudmodel_dev.bench.results import HaRow, LoadSample, Results, SizeResult, Stop
from cloudmodel_dev.bench.simclient import SimulatorClient
from cloudmodel_dev.bench.tracker import Tracker


def _kubectl(plane: controlplane.ControlPlane, *args: str) -> None:
    subprocess.run(  # noqa: S603 - our kubectl
        [str(plane.kubectl), f"--kubeconfig={plane.kubeconfig_path()}", *args],
        check=True,
        capture_output=True,
        timeout=120,
    )


def _config_summary(config: BenchConfig) -> dict[str, object]:
    raw = dataclasses.asdict(config)
    raw["rows"] = sorted(config.rows)
    raw["out_dir"] = str(config.out_dir)
    return raw


async def _wanted(bench: Bench, size: SizeResult, row: str) -> bool:
    if row not in bench.config.rows:
        return False
    if bench.over_budget():
        size.skipped[row] = "time budget"
        bench.log(f"skipping {row} at {size.n:,}: past the time budget")
        return False
    return True


async def run_size(bench: Bench, n: int) -> SizeResult:
    config = bench.config
    size = SizeResult(n=n, load=[bench.note_load(f"size {n}")])
    bench.results.sizes.append(size)
    created, seconds = await rows_api.create_up_to(bench, n)
    size.created, size.create_seconds = created, round(seconds, 2)
    bench.log(f"{n:,}: created {created:,} resources in {seconds:.1f} s")

    # The limit row is also what makes every status stale before the operator starts: always run.
    size.limit, _ = await rows_api.limit(bench, n)
    bench.log(f"{n:,}: limit {size.limit.writes_per_s:.0f} writes/s ({size.limit.errors} errors)")
    if await _wanted(bench, size, "watch-only"):
        size.watch_only = await rows_api.watch_only(bench, n)
        bench.log(f"{n:,}: Kopf watch-only listed={size.watch_only.listed} in {size.watch_only.seconds} s")

    if config.rows & OPERATOR_ROWS and not bench.over_budget():
        bench.note_load(f"operator {n}")
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
            if await _wanted(bench, size, "responsiveness"):
                size.responsiveness = await rows_operator.responsiveness(bench, config.new_resources)
                bench.log(f"{n:,}: new resource -> status {size.responsiveness.new_resource_s}")
            if await _wanted(bench, size, "steady"):
                bench.note_load(f"steady {n}")
                size.steady = await rows_operator.steady(bench, running, n, config.steady_for(n))
                bench.log(
                    f"{n:,}: steady writes={size.steady.status_writes_watch} calls={size.steady.provider_calls}"
                )
            if await _wanted(bench, size, "churn"):
                size.churn = await rows_operator.churn(bench, running, n)
                bench.log(
                    f"{n:,}: churn {size.churn.changes} changes, {size.churn.writes_changed}+{size.churn.writes_unchanged} writes"
                )
            if await _wanted(bench, size, "restart"):
                running, size.restart = await rows_operator.restart(bench, running, n, f"{n}-restarted")
                bench.log(
                    f"{n:,}: restart all polled after {size.restart.kill_to_all_polled_s} s, {size.restart.writes_watch} writes"
                )
        stopped = await running.operator.proc.stop(grace=20)
        await running.operator.aclose()
        size.operator_stop = Stop(how=stopped.how, seconds=round(stopped.seconds, 2))

    if await _wanted(bench, size, "peer"):
        bench.note_load(f"peer {n}")
        size.peer = await rows_peer.peer(bench, n)
        p = size.peer
        bench.log(
            f"{n:,}: peer {'in ' + str(p.seconds) + ' s' if p.converged else 'did not converge'} ({p.fresh:,}/{n:,})"
        )
    return size


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
        if bench.over_budget():
            setattr(bench.results, row, HaRow(available=False, reason="skipped: past the time budget"))
            continue
        bench.note_load(row)
        result = await (rows_ha.failover(bench, n) if row == "failover" else rows_ha.sharding(bench, n))
        setattr(bench.results, row, result)
        bench.log(f"{row}: {result.details}")


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
        config=_config_summary(config),
        cpus=os.cpu_count() or 0,
    )
    missing = missing_flags(run_help(), HA_FLAGS)
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
        await kube.create("/api/v1/namespaces", {"metadata": {"name": fleet.NAMESPACE}}, exist_ok=True)
        for secret in fleet.secret_manifests():
            await kube.create(f"/api/v1/namespaces/{fleet.NAMESPACE}/secrets", secret)
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
        tracker = Tracker(kube, fleet.NAMESPACE)
        try:
            await sim.wait_ready(120)
            await tracker.start()
            pids = {
                "kube-apiserver": procstat.find_pids(f"--token-auth-file={plane.workdir}/tokens.csv")[0],
                "etcd": procstat.find_pids(f"--data-dir={plane.workdir / 'etcd'}")[0],
                "simulator": simulator.pid,
                "bench": os.getpid(),
            }
            bench = Bench(config, run_dir, kubeconfig, kube, tracker, sim, sim.url, pids, results)
            results.operator_command = bench.operator("example").args
            bench.log(f"control plane at {plane.server}, simulator at {sim.url}, output in {run_dir}")
            for n in config.sizes:
                try:
                    await run_size(bench, n)
                except Exception as exc:  # keep what was measured; the note says what broke
                    results.notes.append(f"the rows at {n:,} stopped on an error: {exc!r} (see {run_dir})")
                    bench.log(f"error at {n:,}: {exc!r}")
                    await processes.stop_all()
                write_results(config, results, stamp)
            try:
                await run_ha(bench, missing)
            except Exception as exc:
                results.notes.append(f"the HA rows stopped on an error: {exc!r} (see {run_dir})")
                bench.log(f"error in the HA rows: {exc!r}")
            if tracker.restarts:
                results.notes.append(f"the benchmark's watch was re-listed {tracker.restarts} time(s)")
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
