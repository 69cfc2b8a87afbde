"""PromQL over a real scrape of the operator, evaluated by the real Prometheus engine (promtool).

A scrape becomes promtool input series held constant for an hour, with every `*_timestamp_seconds`
value moved so that the scrape happens at promtool's time 0 (promtool's clock starts there).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import promql_parser
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.ecosystem.conftest import Scrape
from tests.tools import run

MINUTES = 60
# What a Prometheus scraping the ServiceMonitor adds: the target's health.
UP = {"series": 'up{job="cloudmodel-system/cloudmodel-operator-metrics"}', "values": f"1x{MINUTES}"}


def input_series(scrape: Scrape) -> list[dict[str, str]]:
    series = [UP]
    for family in text_string_to_metric_families(scrape.text):
        for sample in family.samples:
            value = sample.value
            if sample.name.endswith("_timestamp_seconds"):
                value -= scrape.at
            labels = ", ".join(f"{key}={json.dumps(val)}" for key, val in sorted(sample.labels.items()))
            series.append({"series": f"{sample.name}{{{labels}}}", "values": f"{value!r}x{MINUTES}"})
    return series


def selectors(node: Any) -> list[Any]:
    """Every vector selector in a parsed PromQL expression."""
    if isinstance(node, promql_parser.VectorSelector):
        return [node]
    found: list[Any] = []
    for attr in ("lhs", "rhs", "expr", "vector_selector", "param"):
        child = getattr(node, attr, None)
        if child is not None:
            found += selectors(child)
    for arg in getattr(node, "args", None) or []:
        found += selectors(arg)
    return found


def promtool(tmp_path: Path, test: dict[str, Any], rules: dict[str, Any] | None = None) -> Any:
    """Run `promtool test rules` on one test file (and a rule file when given)."""
    if rules is not None:
        (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rules))
    document = {"rule_files": ["rules.yaml"] if rules is not None else [], "evaluation_interval": "1m",
                "tests": [test]}  # fmt: skip
    (tmp_path / "scrape.test.yaml").write_text(yaml.safe_dump(document, width=10_000))
    return run("promtool", "test", "rules", "scrape.test.yaml", cwd=tmp_path)


def expressions_without_data(tmp_path: Path, scrape: Scrape, expressions: list[str]) -> str:
    """promtool's report of the expressions that return nothing on the scrape ("" when all return data)."""
    cases = [{"expr": f"count({expr}) > bool 0", "eval_time": "10m", "exp_samples": [{"labels": "{}", "value": 1}]}
             for expr in expressions]  # fmt: skip
    result = promtool(
        tmp_path, {"interval": "1m", "input_series": input_series(scrape), "promql_expr_test": cases}
    )
    return "" if result.returncode == 0 else result.stdout + result.stderr
