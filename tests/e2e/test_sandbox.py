"""`cloudmodel-dev sandbox` as a new user runs it: every sample shows its phase, Ctrl-C stops it all."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from cloudmodel_dev.controlplane import ensure_binaries

pytestmark = pytest.mark.e2e

EXPECTED_PHASES = {
    "hologres-ready": "Ready",
    "hologres-waiting": "Progressing",
    "guardrail": "Ready",
    "modelarts-running": "Ready",
    "modelarts-deploying": "Progressing",
    "modelarts-concerning": "Degraded",
    "modelarts-failed": "Failed",
    "qianfan-running": "Ready",
    "qianfan-reconfiguring": "Progressing",
}


def test_sandbox_shows_every_sample_and_stops_cleanly(tmp_path: Path) -> None:
    kubectl = ensure_binaries() / "kubectl"
    process = subprocess.Popen(
        [sys.executable, "-m", "cloudmodel_dev", "sandbox"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    output: list[str] = []
    banner = threading.Event()
    kubeconfig: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            match = re.search(r"export KUBECONFIG=(\S+)", line)
            if match:
                kubeconfig.append(match.group(1))
                banner.set()
        banner.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert banner.wait(timeout=300), "".join(output[-40:])
        assert kubeconfig, "".join(output[-40:])
        assert "kubectl get cms -o wide" in "".join(output)
        env = {**os.environ, "KUBECONFIG": kubeconfig[0]}
        for name, phase in EXPECTED_PHASES.items():
            result = subprocess.run(
                [str(kubectl), "wait", f"cms/{name}", f"--for=jsonpath={{.status.phase}}={phase}", "--timeout=60s"],
                env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            assert result.returncode == 0, (name, result.stderr, "".join(output[-30:]))
        listing = json.loads(
            subprocess.run(
                [str(kubectl), "get", "cms", "-o", "json"],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        assert {item["metadata"]["name"] for item in listing["items"]} == set(EXPECTED_PHASES)
        ready = subprocess.run(
            [str(kubectl), "wait", "--for=condition=Ready", "cms/hologres-ready", "cms/qianfan-running",
             "--timeout=30s"],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert ready.returncode == 0, ready.stderr
        wide = subprocess.run(
            [str(kubectl), "get", "cms", "-o", "wide"], env=env, capture_output=True, text=True, check=True
        ).stdout
        print(wide)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        reader.join(timeout=10)
    assert code == 0, "".join(output[-30:])
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True, check=False)
    assert leftovers.stdout.strip() == "", "processes of the sandbox outlived it"
