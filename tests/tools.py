"""The real ecosystem tools (hack/tools/build.sh): where they are, and running them on our output.

`make test` builds them first (`make tools`); a test run on its own builds a missing one on first
use, exactly like the control plane.
"""

from __future__ import annotations

import functools
import json
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import REPO

BUILD = REPO / "hack" / "tools" / "build.sh"


@functools.cache
def tool(name: str) -> Path:
    """Path of a tool's binary (gitops-health, helm, kube-state-metrics, promtool)."""
    result = subprocess.run(["bash", str(BUILD), name], stdout=subprocess.PIPE, text=True, check=False)
    if result.returncode != 0:
        raise AssertionError(
            f"building {name} failed (exit {result.returncode}); run 'make tools' to see why"
        )
    path = Path(result.stdout.strip().splitlines()[-1])
    assert path.is_file(), f"{name} missing at {path}; run 'make tools'"
    return path


def run(
    name: str, *args: str, stdin: str | None = None, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(tool(name)), *args],
        input=stdin,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def gitops_health(judge: str, objects: list[dict[str, Any]], *args: str) -> list[dict[str, str]]:
    """What a GitOps tool decides for each object: `kstatus`, `flux` or `argocd` (see hack/tools/gitops)."""
    result = run("gitops-health", judge, *args, stdin=json.dumps(objects))
    assert result.returncode == 0, result.stderr
    decided: list[dict[str, str]] = json.loads(result.stdout)
    assert len(decided) == len(objects)
    return decided
