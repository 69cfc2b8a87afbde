"""Rows that involve no operator: creating resources, the raw limit, Kopf's watch-only baseline."""

from __future__ import annotations

import json
import sys
import time

from cloudmodel_dev.bench import fleet, snapshots
from cloudmodel_dev.bench.context import Bench
from cloudmodel_dev.bench.documents import stale_status
from cloudmodel_dev.bench.processes import Proc
from cloudmodel_dev.bench.results import LimitRow, ProcessFigures, Stop, WatchOnlyRow


async def create_up_to(bench: Bench, n: int) -> tuple[int, float]:
    """Create resources bench.created..n-1; returns (how many, seconds)."""
    todo = [fleet.member(i) for i in range(bench.created, n)]
    started = time.monotonic()
    await bench.create(todo)
    bench.created = max(bench.created, n)
    return len(todo), time.monotonic() - started


async def stale_pass(
    bench: Bench, members: list[fleet.Member], label: str
) -> tuple[dict[str, object], dict[str, ProcessFigures]]:
    """Replace every status with the benchmark's stale document, from a separate writer process.

    The writer builds the documents itself from the resources' numbers (tens of MB at 10,000,
    not built here). Returns the writer's report and the CPU of the writer, the API server and
    etcd meanwhile.
    """
    job = bench.run_dir / f"stale-{label}.json"
    job.write_text(
        json.dumps(
            {"concurrency": bench.config.limit_concurrency, "members": [[m.index, m.name] for m in members]}
        )
    )
    writer = Proc(
        f"limit-{label}",
        [sys.executable, "-m", "cloudmodel_dev.bench.limitwriter", str(bench.kubeconfig), str(job)],
        bench.run_dir / f"limit-{label}.log",
        stdout_pipe=True,
    ).start()
    pids = {k: v for k, v in bench.pids.items() if k in ("kube-apiserver", "etcd")} | {"writer": writer.pid}
    before = await snapshots.take(bench.kube, pids)
    line = await writer.read_line(within=600)
    after = await snapshots.take(bench.kube, pids)
    await writer.stop(grace=10)
    job.unlink()
    if line is None:
        raise RuntimeError(f"the status writer gave no result; see {writer.log_path}")
    report = json.loads(line)
    bench.tracker.own_versions.update(report.pop("versions", []))
    seconds = after.at - before.at
    processes = {name: snapshots.figures(after.usage[name], before.usage[name], seconds) for name in pids}
    return report, processes


async def limit(bench: Bench, n: int) -> LimitRow:
    members = bench.members(n)
    if not bench.warmed:
        # The first writes to a new CRD build its validators; keep that out of the first size's figure.
        await stale_pass(bench, members[: min(100, n)], "warm-up")
        bench.warmed = True
    report, processes = await stale_pass(bench, members, str(n))
    writes, seconds = int(str(report["writes"])), float(str(report["seconds"]))
    return LimitRow(
        writes=writes,
        seconds=round(seconds, 2),
        writes_per_s=round(writes / seconds, 1) if seconds else 0.0,
        concurrency=bench.config.limit_concurrency,
        errors=int(str(report["errors"])),
        first_error=_first(report.get("first_error")),
        document_bytes=len(json.dumps(stale_status(members[0]))),
        processes=processes,
    )


async def watch_only(bench: Bench, n: int) -> WatchOnlyRow:
    process = Proc(
        f"kopf-watchonly-{n}",
        [sys.executable, "-m", "cloudmodel_dev.bench.kopf_watchonly", str(bench.kubeconfig), str(n)],
        bench.run_dir / f"kopf-watchonly-{n}.log",
        stdout_pipe=True,
    ).start()
    deadline = time.monotonic() + 60 + n / 50
    listed = False
    while not listed and time.monotonic() < deadline:
        line = await process.read_line(within=deadline - time.monotonic())
        if line is None:
            break
        listed = line.strip() == f"listed {n}"
    seconds = time.time() - process.started
    usage = process.usage()
    figures = snapshots.figures(usage, None, seconds)
    stop = await process.stop(grace=10)
    if usage is None:  # it died: the kernel's totals are all there is
        figures = ProcessFigures(
            cpu_seconds=round(stop.cpu_seconds, 3), peak_rss_mb=round(stop.peak_rss_bytes / 2**20, 1)
        )
    return WatchOnlyRow(
        listed=listed,
        seconds=round(seconds, 2) if listed else None,
        process=figures,
        stop=Stop(how=stop.how, seconds=round(stop.seconds, 2)),
    )


def _first(errors: object) -> str | None:
    return str(errors[0]) if isinstance(errors, list) and errors else None
