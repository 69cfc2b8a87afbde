"""Goals and the table are computed from the results alone; check them on made-up results."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloudmodel_dev.bench import report
from cloudmodel_dev.bench.cli import config_from, main
from cloudmodel_dev.bench.config import BenchConfig, quick
from cloudmodel_dev.bench.results import (
    ChurnRow,
    ConvergenceRow,
    FailoverRow,
    HaPhase,
    HaRow,
    LimitRow,
    ListCheck,
    ProcessFigures,
    ReplicaFigures,
    ResponsivenessRow,
    RestartRow,
    Results,
    ShardingRow,
    SizeResult,
    SteadyRow,
    WriteSpread,
)
from cloudmodel_dev.bench.schedule import expected_seconds, plan
from cloudmodel_dev.cli import build_parser


def _process(cpu_per_minute: float, peak: float) -> ProcessFigures:
    return ProcessFigures(
        cpu_seconds=cpu_per_minute * 3, cpu_per_minute=cpu_per_minute, rss_mb=peak - 10, peak_rss_mb=peak
    )


def _size(
    n: int, *, ratio: float, cpu: float, peak: float, idle_writes: int, restart_writes: int
) -> SizeResult:
    seconds = n / (ratio * 240)
    return SizeResult(
        n=n,
        limit=LimitRow(
            writes=n,
            seconds=n / 240,
            writes_per_s=240.0,
            concurrency=32,
            errors=0,
            document_bytes=2000,
            processes={},
        ),
        convergence=ConvergenceRow(
            bound_s=300,
            converged=True,
            seconds=seconds,
            fresh=n,
            resources=n,
            first_status_s=1.0,
            writes_watch=n,
            writes_operator=n,
            writes_per_s=n / seconds,
            writes_per_s_after_first=None,
            ratio_to_limit=ratio,
            process=_process(cpu, peak),
        ),
        responsiveness=ResponsivenessRow(
            new_resource_s=[0.5, 1.5], new_resource_p50_s=1.0, new_resource_max_s=1.5
        ),
        steady=SteadyRow(
            intervals=3,
            seconds=180,
            status_writes_watch=idle_writes,
            status_writes_operator=idle_writes,
            provider_calls=3 * n,
            provider_calls_per_interval=n,
            distinct_targets_per_interval=[n, n, n],
            expected_per_interval=n,
            provider_outcomes={"ok": 3 * n},
            secret_gets=12,
            secret_gets_per_interval=4,
            api_requests_per_s={"GET": 0.1},
            api_requests_by_resource={},
            process=_process(cpu, peak),
            cpu_ms_per_poll=cpu * 3 * 1000 / (3 * n),
            lateness_operator_p50_s=0.1,
            lateness_operator_p99_s=0.5,
            lateness_independent_p50_s=0.0,
            lateness_independent_p99_s=3.0,
            gap_p50_s=60,
            gap_p99_s=66,
            others={name: _process(1, 100) for name in ("kube-apiserver", "etcd", "simulator", "bench")},
            status_bytes_mean=2100,
        ),
        churn=ChurnRow(
            rounds=1,
            changes=n // 100,
            writes_changed=n // 100,
            writes_unchanged=0,
            writes_operator=n // 100,
            unobserved=0,
            latency_p50_s=30,
            latency_p99_s=60,
            latency_max_s=61,
            bound_s=96,
        ),
        restart=RestartRow(
            bound_s=100,
            resources=n,
            polled=n,
            kill_to_all_polled_s=65,
            start_to_all_polled_s=64,
            writes_watch=restart_writes,
            writes_operator=restart_writes,
            process=_process(cpu, peak),
        ),
    )


def _results(*sizes: SizeResult) -> Results:
    results = Results(started_at="2026-11-30T00:00:00+00:00", quick=False, config={"interval": 60}, cpus=2)
    results.sizes = list(sizes)
    results.goals = report.goals(results)
    return results


def _verdicts(results: Results) -> dict[str, bool | None]:
    return {g.name: g.met for g in results.goals}


def test_goals_met_by_an_operator_that_meets_them() -> None:
    results = _results(
        _size(1000, ratio=0.6, cpu=0.5, peak=100, idle_writes=0, restart_writes=0),
        _size(10_000, ratio=0.55, cpu=5.0, peak=230, idle_writes=0, restart_writes=0),
    )
    verdicts = _verdicts(results)
    assert verdicts["convergence vs limit"] is True
    assert verdicts["steady CPU"] is True
    assert verdicts["CPU per poll"] is True  # 5 s/min * 3 min / 30,000 polls = 0.5 ms
    assert verdicts["RSS"] is True
    assert verdicts["idle writes"] is True
    assert verdicts["restart writes"] is True
    assert verdicts["churn writes"] is True
    assert verdicts["provider calls per interval"] is True
    assert verdicts["p99 lateness (operator's histogram)"] is True
    assert verdicts["p99 lateness (simulator's call times)"] is False  # 3 s: the two can disagree
    assert verdicts["per 1,000 steady CPU"] is True  # 0.5 per 1,000 both times
    assert verdicts["per 1,000 peak RSS"] is True  # the fixed part makes it shrink


def test_a_provider_change_must_show_within_one_interval_and_the_lateness() -> None:
    size = _size(10_000, ratio=0.55, cpu=5.0, peak=200, idle_writes=0, restart_writes=0)
    assert size.churn is not None
    assert _verdicts(_results(size))["provider change -> status"] is True  # 61 s <= 66 + 3 + 1
    size.churn.latency_max_s = 75.0
    assert _verdicts(_results(size))["provider change -> status"] is False
    size.churn.latency_max_s = 61.0
    size.churn.unobserved = 1  # a change never seen is not "within" anything
    assert _verdicts(_results(size))["provider change -> status"] is False


def test_an_earlier_run_renders_again_from_its_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = _results(_size(10_000, ratio=0.55, cpu=5.0, peak=200, idle_writes=0, restart_writes=0))
    results.goals = []  # as written by an older harness
    saved = tmp_path / "results.json"
    saved.write_text(results.model_dump_json())
    assert main(build_parser().parse_args(["bench", "--render", str(saved)])) == 0
    printed = capsys.readouterr().out
    assert "Limit: raw /status writes per s" in printed
    assert "met  convergence vs limit" in printed


def test_the_memory_goal_is_250_megabytes_not_mebibytes() -> None:
    # RSS is measured in MiB; "under 250 MB" is 238.4 MiB.
    for peak, met in ((238.0, True), (240.0, False)):
        results = _results(_size(10_000, ratio=0.55, cpu=5.0, peak=peak, idle_writes=0, restart_writes=0))
        assert _verdicts(results)["RSS"] is met


def test_idle_writes_count_repairs_and_the_list_too() -> None:
    size = _size(10_000, ratio=0.55, cpu=5.0, peak=200, idle_writes=0, restart_writes=0)
    assert size.steady is not None
    size.steady.list_written = 0
    assert _verdicts(_results(size))["idle writes"] is True
    size.steady.repairs_operator = 2  # writes that put back a status: still writes in an idle window
    assert _verdicts(_results(size))["idle writes"] is False
    size.steady.repairs_operator = 0
    size.steady.list_written = 1  # the watch saw none, the LIST says one resource was written
    assert _verdicts(_results(size))["idle writes"] is False


def test_goals_missed_are_reported_as_missed() -> None:
    results = _results(
        _size(1000, ratio=0.28, cpu=5.2, peak=180, idle_writes=0, restart_writes=1000),
        _size(3000, ratio=0.27, cpu=16.7, peak=343, idle_writes=3, restart_writes=3000),
    )
    verdicts = _verdicts(results)
    assert verdicts["convergence vs limit"] is False
    assert verdicts["steady CPU"] is False
    assert verdicts["RSS"] is False
    assert verdicts["idle writes"] is False
    assert verdicts["restart writes"] is False
    assert verdicts["per 1,000 steady CPU"] is True  # 5.2 -> 5.57 per 1,000: 1.07
    text = report.render(results)
    assert "MISSED" in text
    assert "measured at 3,000" in text
    assert "1,000" in text.splitlines()[2]
    assert "3,000" in text.splitlines()[2]


def test_a_size_that_did_not_converge_says_so() -> None:
    size = _size(10_000, ratio=0.1, cpu=1, peak=400, idle_writes=0, restart_writes=0)
    assert size.convergence is not None
    size.convergence.converged = False
    size.convergence.fresh = 3514
    size.steady = None
    size.skipped["steady"] = "did not converge"
    results = _results(size)
    table = report.table(results)
    assert "no: 3,514/10,000 in 300 s" in table
    assert "(did not converge)" in table
    assert _verdicts(results)["convergence vs limit"] is False
    assert _verdicts(results)["steady CPU"] is None


def test_cli_builds_the_configuration() -> None:
    parser = build_parser()
    full = config_from(parser.parse_args(["bench"]))
    assert full == BenchConfig(out_dir=Path(".bench"))
    assert full.steady_for(10_000) == 3
    assert full.steady_for(1000) == 1
    assert full.churn_count(10_000) == 100
    small = config_from(parser.parse_args(["bench", "--quick", "--skip", "peer,profile", "--sizes", "40,20"]))
    assert small.quick
    assert small.interval == 10
    assert small.sizes == (20, 40)
    assert "peer" not in small.rows
    assert "limit" in small.rows
    with pytest.raises(SystemExit):
        parser.parse_args(["bench", "--rows", "nonsense"])


def test_the_full_schedule_fits_the_budget_when_the_operator_behaves() -> None:
    full = BenchConfig()
    # The largest size's peer is elastic (it gets what is left); everything else must fit with a
    # minute to spare for it.
    assert plan(full, ha=True) + 60 < full.budget_seconds < 25 * 60
    assert plan(quick(), ha=True) < quick().budget_seconds
    # Property rows run at the largest size only; scaling rows everywhere.
    assert not full.runs_at("churn", 1000)
    assert full.runs_at("churn", 10_000)
    assert full.runs_at("steady", 1000)
    assert quick().runs_at("restart", 200)


def test_expected_row_times_follow_the_windows() -> None:
    full = BenchConfig()
    assert expected_seconds(full, "steady", 10_000) == 3 * 60 + 5
    assert expected_seconds(full, "steady", 1000) == 60 + 5
    assert expected_seconds(full, "churn", 10_000) == pytest.approx(60 + 6 + 5)
    assert expected_seconds(full, "nonsense", 1) == 0.0


def _replica(identity: str, *, writes: float = 0.0, calls: float = 0.0, last: int = 0) -> ReplicaFigures:
    return ReplicaFigures(
        identity=identity,
        status_writes=writes,
        repairs=0.0,
        provider_calls=calls,
        shards=1,
        last_writer_of=last,
        process=ProcessFigures(cpu_seconds=1.0, cpu_per_minute=0.1, rss_mb=80.0),
    )


def _check(n: int, *, written: int, several: int = 0, by_writer: dict[str, int] | None = None) -> ListCheck:
    return ListCheck(
        at=0.0,
        since=0.0,
        resources=n,
        present=n,
        stale_marker=n - written,
        synced=written,
        fresh=written,
        written_since=written,
        several_writers=several,
        by_writer=by_writer or {},
        last_write_time=None,
    )


def _phase(label: str, check: ListCheck, replicas: list[ReplicaFigures]) -> HaPhase:
    return HaPhase(
        label=label,
        resources=check.resources,
        converged=check.written_since == check.resources,
        seconds=20.0,
        watch=WriteSpread(written_once=check.written_since, written_more_than_once=0, not_written=0),
        checked=check,
        replicas=replicas,
    )


def test_ha_rows_read_as_lines_and_goals() -> None:
    results = _results(_size(1000, ratio=0.6, cpu=0.5, peak=100, idle_writes=0, restart_writes=0))
    leader_manager = "cloudmodel-operator/b"
    results.failover = HaRow(
        available=True,
        failover=FailoverRow(
            resources=3000,
            lease_duration_s=15,
            leader="b",
            survivor="a",
            before=_phase(
                "two replicas",
                _check(3000, written=3000, by_writer={leader_manager: 3000}),
                [_replica("a"), _replica("b", writes=3000, calls=3000, last=3000)],
            ),
            seconds_until_survivor_acquired=16.1,
            seconds_until_all_polled_by_survivor=70.2,
            bound_s=96.0,
            writes_caused_watch=0,
            written_since_kill_list=0,
            survivor_holds=["lease"],
            survivor_after=_replica("a", calls=3000),
        ),
    )
    results.sharding = HaRow(
        available=True,
        sharding=ShardingRow(
            resources=3000,
            shards=6,
            replicas=3,
            three=_phase(
                "three replicas", _check(3000, written=3000), [_replica("x", writes=1000, last=1000)]
            ),
            killed="z",
            seconds_until_shards_moved=16.0,
            after_kill=_phase("after SIGKILL of z", _check(3000, written=3000, several=10), []),
        ),
    )
    verdicts = {g.name: g.met for g in report.goals(results)}
    assert verdicts["failover takeover"] is True
    assert verdicts["standby idle"] is True
    assert verdicts["failover writes"] is True
    assert verdicts["sharding, three replicas"] is True
    assert verdicts["sharding, after one is killed"] is False  # ten resources had two writers
    text = "\n".join(
        report.ha_lines("Failover", results.failover) + report.ha_lines("Sharding", results.sharding)
    )
    assert "leader b killed" in text
    assert "a acquired the Lease after 16.1 s" in text
    assert "by more than one 10" in text
    assert "x: writes 1,000 + repairs 0, last writer of 1,000" in text
    assert report.ha_lines("Sharding", HaRow(available=False, reason="not available in this build")) == [
        "Sharding: not available in this build"
    ]


def test_a_standby_that_polled_misses_its_goal() -> None:
    results = _results(_size(1000, ratio=0.6, cpu=0.5, peak=100, idle_writes=0, restart_writes=0))
    results.failover = HaRow(
        available=True,
        failover=FailoverRow(
            resources=10,
            lease_duration_s=15,
            leader="b",
            survivor="a",
            before=_phase("two replicas", _check(10, written=10), [_replica("a", calls=3), _replica("b")]),
            seconds_until_survivor_acquired=25.0,
            seconds_until_all_polled_by_survivor=None,
            bound_s=96.0,
            writes_caused_watch=0,
            written_since_kill_list=2,
            survivor_holds=[],
            survivor_after=_replica("a"),
        ),
    )
    verdicts = {g.name: g.met for g in report.goals(results)}
    assert verdicts["standby idle"] is False
    assert verdicts["failover takeover"] is False
    assert verdicts["failover writes"] is False
