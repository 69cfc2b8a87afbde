"""The README documents the API as it is: every condition reason, every printer column flag."""

from __future__ import annotations

import re
from pathlib import Path

from cloudmodel_operator.api.conditions import ALL_REASONS
from cloudmodel_operator.cli import build_parser

README = (Path(__file__).resolve().parents[3] / "README.md").read_text()


def test_condition_reason_table_matches_the_vocabulary() -> None:
    section = README.split("### Condition reasons", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `(\w+)` \|", section, re.MULTILINE))
    assert documented == ALL_REASONS


def test_every_run_flag_is_documented() -> None:
    run = build_parser()._subparsers._group_actions[0].choices["run"]  # type: ignore[union-attr]
    flags = {opt for action in run._actions for opt in action.option_strings if opt.startswith("--")}
    flags -= {"--help", "--kubeconfig"}
    section = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    assert [flag for flag in sorted(flags) if f"`{flag}" not in section] == []
