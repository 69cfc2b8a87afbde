"""The printed table and the goals: everything here is computed from `Results` alone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cloudmodel_dev.bench import stats
from cloudmodel_dev.bench.results import (
    ConvergenceRow,
    FailoverRow,
    Goal,
    HaPhase,
    HaRow,
    ReplicaFigures,
    Results,
    ShardingRow,
    SizeResult,
)

GOAL_SIZE = 10_000
# The memory goal is "RSS under 250 MB"; RSS is measured in MiB (2**20 bytes), so the
# goal is checked strictly as 250,000,000 bytes.
RSS_GOAL_MIB = 250e6 / 2**20
CHURN_JITTER = 0.1  # the operator's documented +-10% poll jitter
FETCH_AND_WRITE_S = 1.0  # after the poll starts: the provider's answer and the status write


def _n(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100 or digits == 0:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def _pair(a: float | None, b: float | None, digits: int = 2) -> str:
    return f"{_n(a, digits)} / {_n(b, digits)}"


@dataclass(frozen=True)
class Line:
    label: str
    cell: Callable[[SizeResult], str]
    goal: str = ""


def _skip(size: SizeResult, row: str) -> str:
    reason = size.skipped.get(row)
    return f"({reason})" if reason else "-"


def peak_rss(s: SizeResult) -> float | None:
    """The operator's highest RSS at this size (the first process: convergence, then steady)."""
    peaks = [
        x.process.peak_rss_mb for x in (s.convergence, s.steady) if x is not None and x.process.peak_rss_mb
    ]
    return max(peaks) if peaks else None


def _convergence(s: SizeResult) -> str:
    c = s.convergence
    if c is None:
        return _skip(s, "convergence")
    if not c.converged:
        return f"no: {c.fresh:,}/{c.resources:,} in {c.bound_s:.0f} s"
    return _n(c.seconds)


def _failing(reasons: dict[str, int]) -> str:
    if not reasons:
        return "0"
    return ", ".join(f"{count:,} {reason}" for reason, count in sorted(reasons.items(), key=lambda x: -x[1]))


def _peer_convergence(s: SizeResult) -> str:
    p = s.peer
    if p is None:
        return _skip(s, "peer")
    if not p.converged:
        why = f", {p.killed_by}" if p.killed_by else ""
        return f"no: {p.fresh:,}/{p.resources:,} in {p.bound_s:.0f} s{why}"
    return _n(p.seconds)


def _sum(a: float | None, b: float | None) -> float | None:
    return None if a is None and b is None else (a or 0.0) + (b or 0.0)


def _other_cpu(s: SizeResult, name: str) -> float | None:
    figures = s.steady.others.get(name) if s.steady else None
    return figures.cpu_per_minute if figures else None


def _list_fresh(c: ConvergenceRow | None) -> str:
    if c is None or c.checked is None:
        return "-"
    dated = " (dated by managedFields)" if c.dated_by != "watch" else ""
    return f"{c.checked.fresh:,} / {c.checked.stale_marker:,}{dated}"


def _default_budget(s: SizeResult) -> str:
    c = s.convergence_default_budget
    if c is None:
        return _skip(s, "default-budget")
    if not c.converged:
        return f"no: {c.fresh:,}/{c.resources:,} in {c.bound_s:.0f} s"
    return _n(c.seconds)


def _standby(s: SizeResult) -> str:
    b = s.standby
    if b is None:
        return _skip(s, "standby")
    if not b.listed:
        return "did not list"
    return f"{_n(b.seconds)} / {_n(b.process.cpu_seconds, 1)} / {_n(b.process.rss_mb, 0)}"


def _ratio_cell(a: float | None, b: float | None) -> str:
    value = stats.ratio(a, b)
    return "-" if value is None else f"{value:.2f}x"


LINES: list[Line] = [
    Line("Limit: raw /status writes per s", lambda s: _n(s.limit.writes_per_s) if s.limit else "-"),
    Line("Convergence: start -> all statuses, s", _convergence),
    Line("  effective writes per s", lambda s: _n(s.convergence.writes_per_s) if s.convergence else "-"),
    Line(
        "  ratio to the limit",
        lambda s: _n(s.convergence.ratio_to_limit, 2) if s.convergence else "-",
        ">= 0.50",
    ),
    Line(
        "  status writes seen (watch / operator's count)",
        lambda s: (
            f"{_n(s.convergence.writes_watch, 0)} / {_n(s.convergence.writes_operator, 0)}"
            if s.convergence
            else "-"
        ),
        "= N",
    ),
    Line("  LIST at the end: fresh / still stale", lambda s: _list_fresh(s.convergence)),
    Line(
        "  failing statuses at the end", lambda s: _failing(s.convergence.failing) if s.convergence else "-"
    ),
    Line("Convergence at the default Kubernetes budget, s", lambda s: _default_budget(s)),
    Line(
        "  effective writes per s / ratio to the limit",
        lambda s: (
            f"{_n(s.convergence_default_budget.writes_per_s)} / {_n(s.convergence_default_budget.ratio_to_limit, 2)}"
            if s.convergence_default_budget
            else "-"
        ),
    ),
    Line(
        "New resource -> status, s (p50 / max)",
        lambda s: (
            _pair(s.responsiveness.new_resource_p50_s, s.responsiveness.new_resource_max_s)
            if s.responsiveness
            else _skip(s, "responsiveness")
        ),
        "< 2",
    ),
    Line(
        "Provider change -> status, s (p50 / max)",
        lambda s: _pair(s.churn.latency_p50_s, s.churn.latency_max_s, 1) if s.churn else _skip(s, "churn"),
        "<= interval + lateness",
    ),
    Line(
        "Steady: window (intervals)",
        lambda s: f"{s.steady.seconds:.0f} s ({s.steady.intervals})" if s.steady else _skip(s, "steady"),
    ),
    Line(
        "  status writes (watch / operator / LIST)",
        lambda s: (
            f"{s.steady.status_writes_watch} / {_n(_sum(s.steady.status_writes_operator, s.steady.repairs_operator), 0)}"
            f" / {_n(s.steady.list_written, 0)}"
            if s.steady
            else "-"
        ),
        "0 (heartbeat off)",
    ),
    Line(
        "  provider calls per interval",
        lambda s: _n(s.steady.provider_calls_per_interval, 0) if s.steady else "-",
        "= N",
    ),
    Line(
        "  Secret GETs per interval", lambda s: _n(s.steady.secret_gets_per_interval, 0) if s.steady else "-"
    ),
    Line(
        "  API requests per s (all verbs)",
        lambda s: _n(sum(s.steady.api_requests_per_s.values()), 1) if s.steady else "-",
    ),
    Line(
        "  operator CPU s per minute",
        lambda s: _n(s.steady.process.cpu_per_minute, 2) if s.steady else "-",
        "< 6 (10% core)",
    ),
    Line(
        "  operator CPU ms per poll", lambda s: _n(s.steady.cpu_ms_per_poll, 2) if s.steady else "-", "< 0.6"
    ),
    Line(
        "  operator RSS MiB (end / peak)",
        lambda s: _pair(s.steady.process.rss_mb, s.steady.process.peak_rss_mb, 0) if s.steady else "-",
        "< 250 MB (238 MiB)",
    ),
    Line(
        "  poll lateness p50 / p99, operator, s",
        lambda s: (
            _pair(s.steady.lateness_operator_p50_s, s.steady.lateness_operator_p99_s) if s.steady else "-"
        ),
        "p99 < 2",
    ),
    Line(
        "  poll lateness p50 / p99, simulator, s",
        lambda s: (
            _pair(s.steady.lateness_independent_p50_s, s.steady.lateness_independent_p99_s)
            if s.steady
            else "-"
        ),
        "p99 < 2",
    ),
    Line(
        "  apiserver / etcd CPU s per minute",
        lambda s: (
            _pair(s.steady.others["kube-apiserver"].cpu_per_minute, s.steady.others["etcd"].cpu_per_minute)
            if s.steady
            else "-"
        ),
    ),
    Line(
        "  simulator / benchmark / its watch CPU s per min",
        lambda s: (
            f"{_n(s.steady.others['simulator'].cpu_per_minute, 2)} / {_n(s.steady.others['bench'].cpu_per_minute, 2)}"
            f" / {_n(_other_cpu(s, 'bench-watch'), 2)}"
            if s.steady
            else "-"
        ),
    ),
    Line(
        "Churn: changes / writes on them / on others",
        lambda s: (
            f"{s.churn.changes} / {s.churn.writes_changed} / {s.churn.writes_unchanged}"
            if s.churn
            else _skip(s, "churn")
        ),
        "writes = changes",
    ),
    Line(
        "  LIST: changed written / others written",
        lambda s: (
            f"{_n(s.churn.list_written_changed, 0)} / {_n(s.churn.list_written_unchanged, 0)}"
            if s.churn
            else "-"
        ),
    ),
    Line(
        "Restart (SIGKILL): s until all polled",
        lambda s: _n(s.restart.kill_to_all_polled_s) if s.restart else _skip(s, "restart"),
    ),
    Line(
        "  writes caused (watch / LIST)",
        lambda s: f"{s.restart.writes_watch} / {_n(s.restart.list_written, 0)}" if s.restart else "-",
        "0",
    ),
    Line("Stop (SIGTERM -> exit), s", lambda s: _n(s.operator_stop.seconds, 1) if s.operator_stop else "-"),
    Line(
        "Per 1,000: convergence s",
        lambda s: _n(stats.per_thousand(s.convergence.seconds, s.n)) if s.convergence else "-",
        "linear",
    ),
    Line(
        "Per 1,000: steady CPU s per minute",
        lambda s: _n(stats.per_thousand(s.steady.process.cpu_per_minute, s.n), 2) if s.steady else "-",
        "linear",
    ),
    Line("Per 1,000: peak RSS MiB", lambda s: _n(stats.per_thousand(peak_rss(s), s.n), 1), "linear"),
    Line("Peer (Kopf timer): start -> all, s", _peer_convergence),
    Line("  peer writes per s", lambda s: _n(s.peer.writes_per_s) if s.peer else "-"),
    Line(
        "  peer handler failures while converging",
        lambda s: _n(s.peer.handler_failures, 0) if s.peer else "-",
    ),
    Line(
        "  peer per tick: writes / calls / Secret GETs",
        lambda s: (
            f"{s.peer.tick.status_writes_watch} / {s.peer.tick.provider_calls} / {_n(s.peer.tick.secret_gets, 0)}"
            if s.peer and s.peer.tick
            else "-"
        ),
    ),
    Line(
        "  peer CPU s per minute (tick)",
        lambda s: _n(s.peer.tick.process.cpu_per_minute, 2) if s.peer and s.peer.tick else "-",
    ),
    Line("  peer peak RSS MiB", lambda s: _n(s.peer.process.peak_rss_mb, 0) if s.peer else "-"),
    Line(
        "Operator vs peer: convergence time",
        lambda s: _ratio_cell(
            s.convergence.seconds if s.convergence else None, s.peer.seconds if s.peer else None
        ),
    ),
    Line(
        "  steady CPU",
        lambda s: _ratio_cell(
            s.steady.process.cpu_per_minute if s.steady else None,
            s.peer.tick.process.cpu_per_minute if s.peer and s.peer.tick else None,
        ),
    ),
    Line(
        "  peak RSS",
        lambda s: _ratio_cell(
            s.steady.process.peak_rss_mb if s.steady else None, s.peer.process.peak_rss_mb if s.peer else None
        ),
    ),
    Line(
        "  writes per interval",
        lambda s: (
            f"{s.steady.status_writes_watch / s.steady.intervals:.0f} vs {s.peer.tick.status_writes_watch}"
            if s.steady and s.peer and s.peer.tick
            else "-"
        ),
    ),
    Line(
        "Kopf watch-only: s to list / CPU s / RSS MiB",
        lambda s: (
            f"{_n(s.watch_only.seconds)} / {_n(s.watch_only.process.cpu_seconds, 1)} / {_n(s.watch_only.process.rss_mb, 0)}"
            if s.watch_only
            else _skip(s, "watch-only")
        ),
    ),
    Line("Operator standby: s to list / CPU s / RSS MiB", lambda s: _standby(s)),
    Line(
        "  standby idle CPU s per minute",
        lambda s: _n(s.standby.idle.cpu_per_minute, 2) if s.standby and s.standby.idle else "-",
    ),
]


def table(results: Results) -> str:
    sizes = results.sizes
    headers = [f"{s.n:,}" for s in sizes]
    label_width = max(len(line.label) for line in LINES) + 2
    cells = [[line.cell(s) for s in sizes] for line in LINES]
    widths = [max([len(h)] + [len(row[i]) for row in cells]) + 2 for i, h in enumerate(headers)]
    goal_header = f"goal (at {GOAL_SIZE:,})"
    out = [
        "".join(
            [
                " " * label_width,
                *(h.rjust(w) for h, w in zip(headers, widths, strict=True)),
                "  ",
                goal_header,
            ]
        )
    ]
    for line, row in zip(LINES, cells, strict=True):
        out.append(
            "".join(
                [
                    line.label.ljust(label_width),
                    *(c.rjust(w) for c, w in zip(row, widths, strict=True)),
                    "  ",
                    line.goal,
                ]
            )
        )
    return "\n".join(line.rstrip() for line in out)


def _replica_text(r: ReplicaFigures) -> str:
    return (
        f"{r.identity}: writes {_n(r.status_writes, 0)} + repairs {_n(r.repairs, 0)}"
        + (f" (failed {_n(r.write_failures, 0)})" if r.write_failures else "")
        + ", "
        f"last writer of {r.last_writer_of:,}, calls {_n(r.provider_calls, 0)}, shards {r.shards}, "
        f"CPU {_n(r.process.cpu_per_minute, 2)} s/min, RSS {_n(r.process.rss_mb, 0)} MiB"
    )


def _phase_lines(phase: HaPhase) -> list[str]:
    c, w = phase.checked, phase.watch
    stale = f" (after a stale pass of {_n(phase.stale_pass_s)} s)" if phase.stale_pass_s is not None else ""
    return [
        f"  {phase.label}: all written{stale} in {_n(phase.seconds)} s: {'yes' if phase.converged else 'NO'}",
        f"    LIST (managedFields): written by one process {c.written_since - c.several_writers:,}, "
        f"by more than one {c.several_writers:,}, not written {c.resources - c.written_since:,}, "
        f"still stale {c.stale_marker:,}, Synced {c.synced:,} (of {c.resources:,})",
        f"    last writer: {c.by_writer}"
        + (f"; not written, e.g. {', '.join(c.not_written_sample)}" if c.not_written_sample else ""),
        f"    watch: written once {w.written_once:,}, more than once {w.written_more_than_once:,}, "
        f"not written {w.not_written:,}",
        *(f"    {_replica_text(r)}" for r in phase.replicas),
    ]


def _failover_lines(name: str, f: FailoverRow) -> list[str]:
    return [
        f"{name}: {f.resources:,} resources, lease duration {f.lease_duration_s:g} s, leader {f.leader} killed",
        *_phase_lines(f.before),
        f"  after the kill: {f.survivor} acquired the Lease after {_n(f.seconds_until_survivor_acquired)} s "
        f"and polled every resource again after {_n(f.seconds_until_all_polled_by_survivor)} s "
        f"(bound {_n(f.bound_s, 0)} s); status writes caused: {f.writes_caused_watch} (watch), "
        f"{f.written_since_kill_list} (LIST)",
        f"    {_replica_text(f.survivor_after)}; holds {f.survivor_holds}",
    ]


def _sharding_lines(name: str, s: ShardingRow) -> list[str]:
    lines = [f"{name}: {s.resources:,} resources, {s.replicas} replicas, {s.shards} shards"]
    lines += _phase_lines(s.three)
    if s.killed is not None:
        lines.append(
            f"  SIGKILL {s.killed}: its shards held by the others after {_n(s.seconds_until_shards_moved)} s"
        )
    if s.after_kill is not None:
        lines += _phase_lines(s.after_kill)
    return lines


def ha_lines(name: str, row: HaRow | None) -> list[str]:
    if row is None:
        return [f"{name}: not run"]
    if not row.available or row.reason:
        return [f"{name}: {row.reason}"]
    if row.failover is not None:
        return _failover_lines(name, row.failover)
    if row.sharding is not None:
        return _sharding_lines(name, row.sharding)
    return [f"{name}: no figures"]


def goals(results: Results) -> list[Goal]:
    """The issue's goals, checked at the largest size measured (they are stated for 10,000)."""
    if not results.sizes:
        return []
    s = results.sizes[-1]
    found: list[Goal] = []

    def add(name: str, target: str, measured: str, met: bool | None) -> None:
        found.append(Goal(name=name, target=target, measured=measured, met=met))

    c = s.convergence
    add(
        "convergence vs limit",
        ">= 50% of the limit",
        _n(c.ratio_to_limit, 2) if c else "-",
        None if c is None or c.ratio_to_limit is None else (c.converged and c.ratio_to_limit >= 0.5),
    )
    r = s.responsiveness
    add(
        "new resource -> status",
        "< 2 s",
        _n(r.new_resource_max_s, 2) + " s max" if r else "-",
        None if r is None or r.new_resource_max_s is None else r.new_resource_max_s < 2.0,
    )
    st = s.steady
    cpu = st.process.cpu_per_minute if st else None
    add("steady CPU", "< 10% of a core (6 CPU s/min)", _n(cpu, 2), None if cpu is None else cpu < 6.0)
    add(
        "CPU per poll",
        "< 0.6 ms",
        _n(st.cpu_ms_per_poll, 3) if st else "-",
        None if st is None or st.cpu_ms_per_poll is None else st.cpu_ms_per_poll < 0.6,
    )
    peak = peak_rss(s)
    add(
        "RSS",
        f"< 250 MB ({RSS_GOAL_MIB:.0f} MiB)",
        _n(peak, 0) + " MiB peak" if peak else "-",
        None if not peak else peak < RSS_GOAL_MIB,
    )
    p99 = st.lateness_operator_p99_s if st else None
    add("p99 lateness (operator's histogram)", "< 2 s", _n(p99, 2), None if p99 is None else p99 < 2.0)
    ind = st.lateness_independent_p99_s if st else None
    add("p99 lateness (simulator's call times)", "< 2 s", _n(ind, 2), None if ind is None else ind < 2.0)
    idle = _idle_writes(st)
    add("idle writes", "0 beyond heartbeats", _n(idle, 0), None if idle is None else idle == 0)
    if st:
        per_interval = st.provider_calls_per_interval
        add(
            "provider calls per interval",
            f"= distinct targets ({s.n:,})",
            _n(per_interval, 0),
            abs(per_interval / s.n - 1.0) <= 0.1 and st.provider_outcomes.get("ok", 0) > 0,
        )
    ch = s.churn
    if ch is not None and ch.latency_max_s is not None:
        interval = float(str(results.config.get("interval", 60)))
        late = max((x for x in (p99, ind) if x is not None), default=0.0)
        allowed = interval * (1 + CHURN_JITTER) + late + FETCH_AND_WRITE_S
        add(
            "provider change -> status",
            f"<= interval x 1.1 + p99 lateness + {FETCH_AND_WRITE_S:g} s ({allowed:.1f} s)",
            f"{_n(ch.latency_max_s)} s max, {ch.unobserved} not seen",
            ch.latency_max_s <= allowed and ch.unobserved == 0,
        )
    add(
        "churn writes",
        "= changes",
        f"{ch.writes_changed + ch.writes_unchanged} for {ch.changes}" if ch else "-",
        None
        if ch is None
        else (
            ch.writes_changed == ch.changes
            and ch.writes_unchanged == 0
            and ch.list_written_unchanged in (0, None)
            and ch.list_written_changed in (ch.changes, None)
        ),
    )
    rs = s.restart
    restart_writes = None if rs is None else max(rs.writes_watch, rs.list_written or 0)
    add("restart writes", "0", _n(restart_writes, 0), None if restart_writes is None else restart_writes == 0)
    linear: list[tuple[str, Callable[[SizeResult], float | None]]] = [
        ("per 1,000 steady CPU", lambda x: x.steady.process.cpu_per_minute if x.steady else None),
        ("per 1,000 peak RSS", peak_rss),
        ("per 1,000 convergence time", lambda x: x.convergence.seconds if x.convergence else None),
    ]
    for label, value in linear:
        growth = stats.linear_growth({x.n: stats.per_thousand(value(x), x.n) for x in results.sizes})
        add(
            label,
            "linear (largest / smallest <= 1.2)",
            _n(growth, 2) if growth else "-",
            None if growth is None else growth <= 1.2,
        )
    found += _ha_goals(results)
    return found


def _idle_writes(st: object) -> float | None:
    """Writes in the steady window: the most any of the three counts says (they should all be 0)."""
    from cloudmodel_dev.bench.results import SteadyRow

    if not isinstance(st, SteadyRow):
        return None
    counts = [st.status_writes_watch, st.status_writes_operator, st.repairs_operator, st.list_written]
    return max(float(c) for c in counts if c is not None)


def _ha_goals(results: Results) -> list[Goal]:
    found = []
    failover = results.failover.failover if results.failover else None
    sharding = results.sharding.sharding if results.sharding else None
    if failover is not None:
        taken = failover.seconds_until_survivor_acquired
        found.append(
            Goal(
                name="failover takeover",
                target="< 20 s after SIGKILL",
                measured=f"{_n(taken)} s",
                met=None if taken is None else taken < 20,
            )
        )
        standby = next((r for r in failover.before.replicas if r.identity == failover.survivor), None)
        idle = (
            None
            if standby is None
            else _sum(standby.provider_calls, _sum(standby.status_writes, standby.repairs))
        )
        found.append(
            Goal(
                name="standby idle",
                target="0 provider calls and 0 writes before the kill",
                measured=_n(idle, 0),
                met=None
                if idle is None
                else idle == 0 and standby is not None and standby.last_writer_of == 0,
            )
        )
        caused = max(failover.writes_caused_watch, failover.written_since_kill_list)
        found.append(
            Goal(name="failover writes", target="0 (nothing changed)", measured=str(caused), met=caused == 0)
        )
    if sharding is not None:
        phases = [(sharding.three, "three replicas"), (sharding.after_kill, "after one is killed")]
        for phase, label in phases:
            if phase is None:
                continue
            c = phase.checked
            found.append(
                Goal(
                    name=f"sharding, {label}",
                    target="every resource written, by exactly one process (managedFields)",
                    measured=f"{c.written_since - c.several_writers} of {c.resources}",
                    met=phase.one_writer_each,
                )
            )
    return found


def goals_text(results: Results) -> str:
    size = results.sizes[-1].n if results.sizes else 0
    note = "" if size == GOAL_SIZE else f" (measured at {size:,}; the goals are stated for {GOAL_SIZE:,})"
    lines = [f"Goals{note}:"]
    for g in results.goals:
        mark = {True: "met", False: "MISSED", None: "not measured"}[g.met]
        lines.append(f"  {mark:>12}  {g.name}: {g.measured} (goal {g.target})")
    return "\n".join(lines)


def render(results: Results) -> str:
    loads = [x.load1 for x in results.load]
    header = (
        f"cloudmodel-operator benchmark ({results.commit}), {'quick' if results.quick else 'full'} run started {results.started_at}, "
        f"{results.seconds or 0:.0f} s; poll interval {results.config.get('interval')} s; {results.cpus} CPUs; "
        f"1-min load {min(loads, default=0):.2f}..{max(loads, default=0):.2f}"
    )
    parts = [header, "", table(results), ""]
    parts += ha_lines("Failover (two replicas, SIGKILL the leader)", results.failover)
    parts += ha_lines("Sharding (three replicas, --shards)", results.sharding)
    parts += ["", goals_text(results)]
    if results.profiles:
        parts += ["", "Profiles (py-spy; open *.speedscope.json in speedscope, read *.top20.txt):"]
        parts += [
            f"  {p.phase} at {p.n:,}: {p.files.get('top20') or p.files.get('error')}"
            for p in results.profiles
        ]
    if results.notes:
        parts += ["", "Notes:", *(f"  - {note}" for note in results.notes)]
    return "\n".join(parts)
