"""The committed CRD is what hack/gen_crd.py generates from the spec and status models."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def test_committed_crd_is_in_sync_with_the_models() -> None:
    python = REPO / ".venv" / "bin" / "python"
    result = subprocess.run(
        [str(python if python.exists() else Path(sys.executable)), "hack/gen_crd.py", "--check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, f"crds/ is out of date: run 'make crd'\n{result.stderr}"
