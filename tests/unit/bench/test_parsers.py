"""Reading /proc, Prometheus pages and py-spy's collapsed stacks."""

from __future__ import annotations

import json
import math
import os

from cloudmodel_dev.bench import procstat, profile, promtext
from cloudmodel_dev.bench.operator import HA_FLAGS, missing_flags, parse_metrics


def test_stat_cpu_counts_from_the_last_parenthesis() -> None:
    line = "1234 (cloud model) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 100 1000 200"
    assert procstat.parse_stat_cpu(line, ticks=100) == 3.0


def test_status_memory_in_bytes() -> None:
    text = "Name:\tpython\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads:\t3\n"
    assert procstat.parse_status_memory(text) == (100 * 2**20, 200 * 2**20)
    assert procstat.parse_status_memory("Name:\tzombie\n") == (0, 0)


def test_usage_of_this_process() -> None:
    usage = procstat.usage(os.getpid())
    assert usage is not None
    assert usage.cpu_seconds > 0
    assert usage.peak_rss_bytes >= usage.rss_bytes > 0


OPERATOR_PAGE = """# HELP cloudmodel_status_writes_total Status patches written.
# TYPE cloudmodel_status_writes_total counter
cloudmodel_status_writes_total 42.0
cloudmodel_provider_requests_total{outcome="ok",provider="baidu-qianfan"} 10.0
cloudmodel_provider_requests_total{outcome="ok",provider="huawei-modelarts"} 5.0
cloudmodel_provider_requests_total{outcome="auth",provider="huawei-modelarts"} 1.0
cloudmodel_poll_lateness_seconds_bucket{le="0.1"} 7.0
cloudmodel_poll_lateness_seconds_bucket{le="1.0"} 9.0
cloudmodel_poll_lateness_seconds_bucket{le="+Inf"} 10.0
cloudmodel_poll_lateness_seconds_count 10.0
cloudmodel_phase{name="a",namespace="b",phase="Ready",provider="x"} 1.0
cloudmodel_watched_resources 3.0
"""


def test_operator_metrics() -> None:
    metrics = parse_metrics(OPERATOR_PAGE)
    assert metrics.writes == 42.0
    assert metrics.requests == {"ok": 15.0, "auth": 1.0}
    assert metrics.lateness == {0.1: 7.0, 1.0: 9.0, math.inf: 10.0}
    assert metrics.watched == 3.0


def test_parse_filters_by_sample_name() -> None:
    samples = promtext.parse(OPERATOR_PAGE, ["cloudmodel_phase"])
    assert [(s.name, s.labels["phase"]) for s in samples] == [("cloudmodel_phase", "Ready")]
    assert (
        promtext.total(
            promtext.parse(OPERATOR_PAGE), "cloudmodel_provider_requests_total", provider="huawei-modelarts"
        )
        == 6.0
    )
    assert promtext.delta({"a": 3.0, "b": 1.0}, {"a": 1.0, "b": 1.0}) == {"a": 2.0}


def test_missing_ha_flags_are_named() -> None:
    assert missing_flags("usage: cloudmodel run [--standalone]", HA_FLAGS) == list(HA_FLAGS)
    assert missing_flags("--shards N --identity ID --lease-namespace NS", HA_FLAGS) == []


COLLAPSED = """process 1:"cloudmodel run";thread (1);main (cli.py:1);run (app.py:2);scan (httpcore.py:3) 30
process 1:"cloudmodel run";thread (1);main (cli.py:1);run (app.py:2) 10
process 1:"cloudmodel run";thread (1);main (cli.py:1);dumps (json.py:9);scan (httpcore.py:3) 10

"""


def test_collapsed_stacks_to_top_and_speedscope() -> None:
    stacks = profile.parse_collapsed(COLLAPSED)
    assert len(stacks) == 3
    own, inclusive, total = profile.top(stacks)
    assert total == 50
    assert (own[0].frame, own[0].samples) == ("scan (httpcore.py:3)", 40)
    assert own[0].share == 0.8
    # main always calls run or dumps: it stays; run is a pass-through only when it never is on top.
    assert inclusive[0].frame == "main (cli.py:1)"
    assert inclusive[0].samples == 50
    assert "run (app.py:2)" in [h.frame for h in inclusive]
    passthrough = profile.parse_collapsed("a (x:1);b (x:2);c (x:3) 5\na (x:1);b (x:2);d (x:4) 5\n")
    assert [h.frame for h in profile.top(passthrough)[1]] == ["b (x:2)", "c (x:3)", "d (x:4)"]
    assert not any(h.frame.startswith(("process", "thread")) for h in inclusive)
    document = profile.speedscope(stacks, "test")
    sampled = document["profiles"][0]
    assert sampled["weights"] == [30, 10, 10]
    assert sampled["endValue"] == 50
    names = [f["name"] for f in document["shared"]["frames"]]
    assert [names[i] for i in sampled["samples"][2]][-1] == "scan (httpcore.py:3)"
    json.dumps(document)  # a file speedscope can load
    text = profile.summary_text(stacks, "operator at 20")
    assert "80.0%" in text
    assert "scan (httpcore.py:3)" in text
