"""The benchmark's arithmetic: every figure in the table comes through these functions."""

from __future__ import annotations

import math

import pytest

from cloudmodel_dev.bench import stats


def test_percentile_interpolates_between_ranks() -> None:
    values = [4.0, 1.0, 3.0, 2.0]
    assert stats.percentile(values, 0.0) == 1.0
    assert stats.percentile(values, 1.0) == 4.0
    assert stats.percentile(values, 0.5) == pytest.approx(2.5)
    assert stats.percentile(list(range(101)), 0.99) == pytest.approx(99.0)
    assert stats.percentile([], 0.5) is None
    with pytest.raises(ValueError, match="between 0 and 1"):
        stats.percentile([1.0], 1.5)


def test_histogram_quantile_matches_prometheus() -> None:
    # 10 observations: 5 <= 0.1, 3 in (0.1, 0.5], 2 in (0.5, 1].
    buckets = {0.1: 5.0, 0.5: 8.0, 1.0: 10.0, math.inf: 10.0}
    assert stats.histogram_quantile(buckets, 0.5) == pytest.approx(0.1)  # rank 5: top of the first bucket
    assert stats.histogram_quantile(buckets, 0.65) == pytest.approx(0.1 + 0.4 * (1.5 / 3))
    assert stats.histogram_quantile(buckets, 0.99) == pytest.approx(0.5 + 0.5 * (1.9 / 2))


def test_histogram_quantile_in_the_inf_bucket_returns_the_highest_bound() -> None:
    assert stats.histogram_quantile({1.0: 1.0, 60.0: 1.0, math.inf: 4.0}, 0.99) == 60.0


def test_histogram_quantile_without_observations_is_unknown() -> None:
    assert stats.histogram_quantile({1.0: 0.0, math.inf: 0.0}, 0.5) is None
    with pytest.raises(ValueError, match=r"\+Inf"):
        stats.histogram_quantile({1.0: 1.0}, 0.5)


def test_bucket_delta_keeps_only_the_window() -> None:
    before = {0.1: 10.0, math.inf: 12.0}
    after = {0.1: 10.0, math.inf: 15.0}
    delta = stats.bucket_delta(after, before)
    assert delta == {0.1: 0.0, math.inf: 3.0}
    assert stats.histogram_quantile(delta, 0.5) == 0.1  # every new observation is above 0.1


def test_rates_ratios_and_scaling() -> None:
    assert stats.rate(100, 4.0) == 25.0
    assert stats.rate(100, 0.0) is None
    assert stats.ratio(62, 242) == pytest.approx(0.256, abs=1e-3)
    assert stats.ratio(None, 2) is None
    assert stats.ratio(1, 0) is None
    assert stats.per_thousand(27.9, 3000) == pytest.approx(9.3)
    assert stats.cpu_per_minute(3.0, 180.0) == pytest.approx(1.0)


def test_linear_growth_compares_largest_with_smallest() -> None:
    assert stats.linear_growth({1000: 2.0, 3000: 2.2, 10000: 3.0}) == pytest.approx(1.5)
    assert stats.linear_growth({1000: 2.0, 3000: None}) is None


def test_schedule_lateness_counts_only_what_the_jitter_does_not_allow() -> None:
    gaps = stats.call_gaps([0.0, 60.0, 125.0, 200.0])
    assert gaps == [60.0, 65.0, 75.0]
    assert stats.schedule_lateness(gaps, 60.0, 0.1) == pytest.approx([0.0, 0.0, 9.0])


def test_windows_covered_counts_distinct_targets_per_interval() -> None:
    times = {"a": [1.0, 2.0, 61.0], "b": [59.0], "c": [130.0]}
    assert stats.windows_covered(times, 0.0, 125.0, 60.0) == [2, 1]
