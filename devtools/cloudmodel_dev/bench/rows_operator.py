"""Rows that run the operator: convergence, responsiveness, steady state, churn, restart."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from dataclasses import dataclass
from typing import Any

from cloudmodel_dev.bench import fleet, snapshots, stats, verdict
from cloudmodel_dev.bench.context import Bench
from cloudmodel_dev.bench.observed import is_operator
from cloudmodel_dev.bench.operator import Operator, OperatorMetrics
from cloudmodel_dev.bench.processes import Proc
from cloudmodel_dev.bench.profile import Recording
from cloudmodel_dev.bench.results import (
    ChurnRow,
    ConvergenceRow,
    ProcessFigures,
    Profile,
    ResponsivenessRow,
    RestartRow,
    SteadyRow,
)
from cloudmodel_dev.bench.simclient import target_key
from cloudmodel_dev.bench.tracker import Expectation, fresh_since

MB = 2**20


def _r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


async def until_done_or_exit(expectation: Expectation, process: Proc, within: float) -> bool:
    """Await the expectation, but give up when the process dies or `within` seconds pass."""
    assert process.exited is not None
    waiter = asyncio.ensure_future(expectation.wait(within))
    pending: list[asyncio.Future[Any]] = [waiter, asyncio.shield(process.exited)]
    await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
    if not waiter.done():
        waiter.cancel()
        return not expectation.remaining
    return waiter.result()


async def start_profile(bench: Bench, operator: Operator, phase: str, n: int) -> Recording | None:
    if "profile" not in bench.config.rows or n != max(bench.config.sizes):
        return None
    if not await operator.wait_metrics():
        return None
    stem = bench.config.out_dir / f"profile-{bench.run_dir.name}-{phase}-{n}"
    recording = Recording(
        operator.proc.pid, stem, f"operator {phase} at {n} resources", bench.config.profile_rate
    )
    await recording.start()
    return recording


async def finish_profile(bench: Bench, recording: Recording | None, phase: str, n: int) -> None:
    if recording is not None:
        bench.results.profiles.append(Profile(phase=phase, n=n, files=await recording.stop()))


@dataclass
class Running:
    """The operator process of the current size, kept across rows."""

    operator: Operator
    converged: bool


async def convergence(
    bench: Bench, n: int, label: str, *, raise_kube_budget: bool = True
) -> tuple[Running, ConvergenceRow]:
    """Start the operator on N stale statuses: how long until every one is fresh (LIST-checked)."""
    names = [m.name for m in bench.members(n)]
    config = bench.config
    bound = config.convergence_bound(n) if raise_kube_budget else config.default_budget_bound(n)
    operator = bench.operator(label, raise_kube_budget=raise_kube_budget)
    expectation = bench.tracker.expect(names, fresh_since(time.time()))
    operator.start()
    started = operator.proc.started
    operator.proc.watch_bounds(deadline=None, max_rss_bytes=config.operator_max_rss_mb * MB)
    recording = await start_profile(bench, operator, "convergence", n) if raise_kube_budget else None
    watched = await until_done_or_exit(expectation, operator.proc, bound - (time.time() - started))
    ended = time.time()
    await finish_profile(bench, recording, "convergence", n)
    bench.tracker.release(expectation)
    metrics = await operator.metrics()
    usage = operator.proc.usage()
    # The verdict is the LIST's: a write the watch missed cannot make the row fail.
    check = await verdict.check(bench.kube, names, started)
    converged = check.fresh == n
    dated_by = "watch"
    if watched:
        done = expectation.last_time() or ended
    elif converged and check.last_write_time is not None:
        done, dated_by = check.last_write_time + 0.5, "managedFields"  # whole seconds: the middle
    else:
        done = ended
    first = min((s.t for s in expectation.first.values()), default=None)
    seconds = done - started if converged else None
    limit = bench.results.sizes[-1].limit
    rate = stats.rate(n, seconds) if seconds else None
    row = ConvergenceRow(
        bound_s=round(bound, 1),
        converged=converged,
        seconds=_r(seconds),
        fresh=check.fresh,
        resources=n,
        first_status_s=_r(first - started if first else None),
        writes_watch=len(bench.tracker.status_writes(started, ended)),
        writes_operator=metrics.writes if metrics else None,
        repairs_operator=metrics.repairs if metrics else None,
        writes_per_s=_r(rate, 1) if converged else _r(stats.rate(check.fresh, bound), 1),
        writes_per_s_after_first=_r(stats.rate(n, done - first), 1)
        if converged and first and done > first
        else None,
        ratio_to_limit=_r(stats.ratio(rate, limit.writes_per_s if limit else None), 3),
        failing=bench.tracker.failing(names),
        process=snapshots.figures(usage, None, ended - started),
        killed_by=operator.proc.bound_hit,
        kube_budget="raised" if raise_kube_budget else "default",
        checked=check,
        dated_by=dated_by,
    )
    return Running(operator, converged), row


async def counters_caught_up(bench: Bench, operator: Operator, within: float = 15.0) -> bool:
    """Until the operator's own write counters account for every operator write the watch saw.

    The watch can show a write before the operator has counted it (the response is still on
    its way back): a window starting then would count it as the window's. Nothing announces the
    count: /metrics is read until it agrees, for up to `within` seconds.
    """
    seen = len(
        [s for s in bench.tracker.status_writes(operator.proc.started) if is_operator(s.last_writer() or "")]
    )
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        metrics = await operator.metrics()
        if metrics is None:
            return False
        if metrics.writes + metrics.repairs >= seen:
            return True
        await asyncio.sleep(0.25)
    return False


async def responsiveness(bench: Bench, count: int) -> ResponsivenessRow:
    """New resources, one at a time: creation -> first successful status. Deleted afterwards."""
    created: list[fleet.Member] = []
    times: list[float | None] = []
    for _ in range(count):
        member = bench.new_member("new")
        asked = time.time()
        expectation = bench.tracker.expect([member.name], fresh_since(asked))
        await bench.create([member])
        created.append(member)
        ok = await expectation.wait(30.0)
        bench.tracker.release(expectation)
        times.append(_r(expectation.first[member.name].t - asked, 3) if ok else None)
    await bench.delete(created)
    known = [t for t in times if t is not None]
    return ResponsivenessRow(
        new_resource_s=times,
        new_resource_p50_s=_r(stats.percentile(known, 0.5), 3),
        new_resource_max_s=_r(max(known), 3) if known and len(known) == len(times) else None,
    )


def _lateness_quantiles(
    before: OperatorMetrics | None, after: OperatorMetrics | None
) -> tuple[float | None, float | None]:
    if before is None or after is None or not after.lateness:
        return None, None
    delta = stats.bucket_delta(after.lateness, before.lateness)
    return stats.histogram_quantile(delta, 0.5), stats.histogram_quantile(delta, 0.99)


async def steady(bench: Bench, running: Running, n: int, intervals: int) -> SteadyRow:
    """A window of whole intervals with nothing changing: what does the operator spend?"""
    interval = bench.config.interval
    operator = running.operator
    pids = {**bench.pids, "operator": operator.proc.pid}
    if not await counters_caught_up(bench, operator):
        bench.results.notes.append(
            f"steady at {n:,}: the operator's write counters did not catch up with the watch within 15 s"
        )
    recording = await start_profile(bench, operator, "steady", n)
    metrics_before = await operator.metrics()
    before = await snapshots.take(bench.kube, pids)
    await asyncio.sleep(intervals * interval)  # the window's length is the measurement itself
    after = await snapshots.take(bench.kube, pids)
    metrics_after = await operator.metrics()
    await finish_profile(bench, recording, "steady", n)
    seconds = after.at - before.at
    check = await verdict.check(bench.kube, [m.name for m in bench.members(n)], before.at, exclusive=True)
    calls = await bench.sim.calls(since=before.at - 2 * interval)
    in_window = calls.within(before.at, after.at)
    call_count = sum(len(ts) for ts in in_window.values())
    # Independent lateness: gaps between consecutive calls of a target that end inside the window.
    gaps = []
    for times in calls.within(before.at - 2 * interval, after.at).values():
        ordered = sorted(times)
        gaps += [b - a for a, b in itertools.pairwise(ordered) if b >= before.at]
    late = stats.schedule_lateness(gaps, interval, bench.config.jitter)
    requests = snapshots.request_delta(after, before)
    writes = bench.tracker.status_writes(before.at, after.at)
    op_p50, op_p99 = _lateness_quantiles(metrics_before, metrics_after)
    operator_figures = snapshots.figures(after.usage["operator"], before.usage["operator"], seconds)
    ours = bench.tracker.own_versions
    sizes = [
        s.size for s in bench.tracker.window(0.0) if s.kind == "MODIFIED" and s.size and s.version not in ours
    ]
    outcomes: dict[str, int] = {}
    for provider_outcomes in calls.outcomes.values():
        for outcome, count in provider_outcomes.items():
            outcomes[outcome] = outcomes.get(outcome, 0) + count
    return SteadyRow(
        intervals=intervals,
        seconds=round(seconds, 1),
        status_writes_watch=len(writes),
        status_writes_operator=_delta(metrics_after, metrics_before, "writes"),
        repairs_operator=_delta(metrics_after, metrics_before, "repairs"),
        list_written=check.written_since,
        provider_calls=call_count,
        provider_calls_per_interval=round(call_count * interval / seconds, 1),
        distinct_targets_per_interval=stats.windows_covered(in_window, before.at, after.at, interval),
        expected_per_interval=n,
        provider_outcomes=outcomes,
        secret_gets=snapshots.secret_gets(requests),
        secret_gets_per_interval=round(snapshots.secret_gets(requests) * interval / seconds, 1),
        api_requests_per_s=snapshots.by_verb(requests, seconds),
        api_requests_by_resource=snapshots.by_resource(requests),
        process=operator_figures,
        cpu_ms_per_poll=_r(stats.ratio(operator_figures.cpu_seconds * 1000, call_count), 3),
        lateness_operator_p50_s=_r(op_p50, 3),
        lateness_operator_p99_s=_r(op_p99, 3),
        lateness_independent_p50_s=_r(stats.percentile(late, 0.5), 3),
        lateness_independent_p99_s=_r(stats.percentile(late, 0.99), 3),
        gap_p50_s=_r(stats.percentile(gaps, 0.5)),
        gap_p99_s=_r(stats.percentile(gaps, 0.99)),
        others={
            name: snapshots.figures(after.usage[name], before.usage[name], seconds) for name in bench.pids
        },
        status_bytes_mean=_r(sum(sizes) / len(sizes), 0) if sizes else None,
    )


def _delta(after: OperatorMetrics | None, before: OperatorMetrics | None, field: str) -> float | None:
    if after is None or before is None:
        return None
    return float(getattr(after, field)) - float(getattr(before, field))


async def churn(bench: Bench, running: Running, n: int) -> ChurnRow:
    """Each round (one per interval) changes a fraction of the targets; writes should equal changes."""
    config = bench.config
    rng = random.Random(config.seed + n)  # noqa: S311 - a reproducible sample, not security
    pool = bench.members(n)
    rng.shuffle(pool)
    count = config.churn_count(n)
    metrics_before = await running.operator.metrics()
    started = time.time()
    changed: dict[str, float] = {}  # name -> time of its change
    expectations = []
    for round_index in range(config.churn_rounds):
        if round_index:
            await asyncio.sleep(max(0.0, started + round_index * config.interval - time.time()))
        picked = pool[round_index * count : (round_index + 1) * count]
        expectation = bench.tracker.expect([m.name for m in picked], bench.tracker.written_after(time.time()))
        expectations.append(expectation)
        at = await bench.sim.change(m.churn_change() for m in picked)
        changed.update({m.name: at for m in picked})
    bound = config.interval * (1 + config.jitter) + 30.0
    last_change = max(changed.values())
    for expectation in expectations:
        await expectation.wait(last_change + bound - time.time())
        bench.tracker.release(expectation)
    await asyncio.sleep(2.0)  # a settle window, to see a second write of the same change if one comes
    ended = time.time()
    writes = bench.tracker.status_writes(started, ended)
    latencies = [s.t - changed[s.name] for e in expectations for s in e.first.values()]
    metrics_after = await running.operator.metrics()
    others = [m.name for m in pool if m.name not in changed]
    listed, at = await verdict.listing(bench.kube)
    check_changed = verdict.judge(listed, changed, started, at)
    check_others = verdict.judge(listed, others, started, at, exclusive=True)
    return ChurnRow(
        rounds=config.churn_rounds,
        changes=len(changed),
        writes_changed=sum(1 for s in writes if s.name in changed),
        writes_unchanged=sum(1 for s in writes if s.name not in changed),
        writes_operator=_delta(metrics_after, metrics_before, "writes"),
        unobserved=sum(len(e.remaining) for e in expectations),
        latency_p50_s=_r(stats.percentile(latencies, 0.5)),
        latency_p99_s=_r(stats.percentile(latencies, 0.99)),
        latency_max_s=_r(max(latencies) if latencies else None),
        bound_s=round(bound, 1),
        list_written_changed=check_changed.written_since,
        list_written_unchanged=check_others.written_since,
    )


async def restart(bench: Bench, running: Running, n: int, label: str) -> tuple[Running, RestartRow]:
    """SIGKILL the operator and start it again: how long until every target is polled, what it writes."""
    config = bench.config
    killed_at = time.time()
    await running.operator.proc.stop(kill=True)
    await running.operator.aclose()
    operator = bench.operator(label).start()
    started = operator.proc.started
    operator.proc.watch_bounds(deadline=None, max_rss_bytes=config.operator_max_rss_mb * MB)
    keys = {target_key(m.provider, m.target_id) for m in bench.members(n)}
    bound = config.interval * (1 + config.jitter) + 30.0 + n / 100.0
    polled: dict[str, float] = {}
    # The simulator has no push channel: its call log is read every 2 s until all are polled.
    while time.time() - started < bound and operator.proc.alive():
        calls = await bench.sim.calls(since=started)
        polled = {k: t for k, t in calls.first_after(started).items() if k in keys}
        if len(polled) == len(keys):
            break
        await asyncio.sleep(2.0)
    all_polled = max(polled.values()) if len(polled) == len(keys) else None
    await asyncio.sleep(2.0)  # writes that follow the last poll
    ended = time.time()
    metrics = await operator.metrics()
    usage = operator.proc.usage()
    check = await verdict.check(bench.kube, [m.name for m in bench.members(n)], killed_at, exclusive=True)
    row = RestartRow(
        bound_s=round(bound, 1),
        resources=n,
        polled=len(polled),
        kill_to_all_polled_s=_r(all_polled - killed_at if all_polled else None),
        start_to_all_polled_s=_r(all_polled - started if all_polled else None),
        writes_watch=len(bench.tracker.status_writes(killed_at, ended)),
        writes_operator=metrics.writes if metrics else None,
        repairs_operator=metrics.repairs if metrics else None,
        list_written=check.written_since,
        process=snapshots.figures(usage, None, ended - started) if usage else ProcessFigures(cpu_seconds=0.0),
    )
    return Running(operator, running.converged), row
