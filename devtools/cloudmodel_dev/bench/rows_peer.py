"""The peer row: the same resources run by the simplest Kopf design, bounded in time and memory."""

from __future__ import annotations

import sys
import time

from cloudmodel_dev.bench import snapshots, stats, verdict
from cloudmodel_dev.bench.context import Bench
from cloudmodel_dev.bench.processes import Proc
from cloudmodel_dev.bench.results import PeerRow, PeerTick, ProcessFigures, Stop
from cloudmodel_dev.bench.rows_operator import until_done_or_exit
from cloudmodel_dev.bench.tracker import fresh_since

MB = 2**20


async def peer(bench: Bench, n: int, bound: float) -> PeerRow:
    config = bench.config
    names = [m.name for m in bench.members(n)]
    expectation = bench.tracker.expect(names, fresh_since(time.time()))
    process = Proc(
        f"kopf-peer-{n}",
        [sys.executable, "-m", "cloudmodel_dev.bench.kopf_peer", str(bench.kubeconfig), str(config.interval)],
        bench.run_dir / f"kopf-peer-{n}.log",
    ).start()
    started = process.started
    process.watch_bounds(
        deadline=started + bound + 2 * config.interval + 30, max_rss_bytes=config.peer_max_rss_mb * MB
    )
    converged = await until_done_or_exit(expectation, process, bound)
    failures = process.log_path.read_text(errors="replace").count(" failed with an exception")
    bench.tracker.release(expectation)
    done = expectation.last_time() if converged else time.time()
    assert done is not None
    check = await verdict.check(bench.kube, names, started)
    if not converged and check.fresh == n:
        # The watch missed the last writes; the LIST found them all: dated by the LIST, the latest
        # they can have been.
        converged, done = True, check.at
        bench.results.notes.append(
            f"peer at {n:,}: converged by the LIST at its end (the watch missed writes)"
        )
    usage = process.usage()
    figures = snapshots.figures(usage, None, done - started)
    tick = None
    if converged and process.alive() and config.peer_tick_at(n):
        # One whole tick of every object: from convergence until each object's second write.
        first = {name: seen.t for name, seen in expectation.first.items()}
        second = bench.tracker.expect(
            names,
            lambda s: s.kind == "MODIFIED" and s.status_changed and s.t > first[s.name] + 1.0,
        )
        pids = {"peer": process.pid}
        before = await snapshots.take(bench.kube, pids)
        await until_done_or_exit(second, process, config.interval * (1 + config.jitter) + 30)
        bench.tracker.release(second)
        after = await snapshots.take(bench.kube, pids)
        window = after.at - before.at
        calls = await bench.sim.calls(since=before.at)
        requests = snapshots.request_delta(after, before)
        tick = PeerTick(
            seconds=round(window, 1),
            objects_ticked=len(second.first),
            status_writes_watch=len(bench.tracker.status_writes(before.at, after.at)),
            provider_calls=calls.count(before.at, after.at),
            secret_gets=snapshots.secret_gets(requests),
            process=snapshots.figures(after.usage["peer"], before.usage["peer"], window),
        )
    killed_by = process.bound_hit
    stop = await process.stop(grace=10)
    if usage is None:
        figures = ProcessFigures(
            cpu_seconds=round(stop.cpu_seconds, 2), peak_rss_mb=round(stop.peak_rss_bytes / MB, 1)
        )
    else:
        peak = max(stop.peak_rss_bytes, usage.peak_rss_bytes)
        figures.peak_rss_mb = round(peak / MB, 1)
    seconds = done - started if converged else None
    return PeerRow(
        bound_s=round(bound, 1),
        converged=converged,
        seconds=round(seconds, 2) if seconds else None,
        fresh=max(len(expectation.first), check.fresh),
        resources=n,
        writes_per_s=round(n / seconds, 1)
        if seconds
        else round(stats.rate(len(expectation.first), bound) or 0.0, 1),
        handler_failures=failures,
        killed_by=killed_by,
        process=figures,
        tick=tick,
        stop=Stop(how=stop.how, seconds=round(stop.seconds, 2)),
    )
