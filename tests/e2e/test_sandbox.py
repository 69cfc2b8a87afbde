"""`cloudmodel-dev sandbox` as a new user runs it: every sample shows its phase, Ctrl-C stops it all,
and a port that is taken is named in one line with the flag that picks another."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from cloudmodel_dev.controlplane import ensure_binaries, free_port

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


def sandbox_command(*flags: str) -> list[str]:
    return [sys.executable, "-m", "cloudmodel_dev", "sandbox", *flags]


def test_sandbox_shows_every_sample_and_stops_cleanly(tmp_path: Path) -> None:
    kubectl = ensure_binaries() / "kubectl"
    # Not the default 8787: this also proves --simulator-port end to end (the samples name 8787,
    # and every one of them still reaches its phase), and leaves 8787 to a developer's sandbox.
    simulator_port = free_port()
    simulator_url = f"http://127.0.0.1:{simulator_port}"
    process = subprocess.Popen(
        sandbox_command("--simulator-port", str(simulator_port)),
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
        assert {item["spec"]["endpoint"] for item in listing["items"]} == {simulator_url}
        assert f"curl -X PUT {simulator_url}/_admin/" in "".join(output)
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


@contextlib.contextmanager
def taken_port(host: str = "127.0.0.1") -> Iterator[int]:
    """A port some other program is listening on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.bind((host, 0))
        other.listen()
        yield int(other.getsockname()[1])


@pytest.mark.parametrize(
    ("flag", "what"), [("--simulator-port", "provider simulator"), ("--metrics-port", "operator metrics")]
)
def test_a_taken_port_is_named_in_one_line(tmp_path: Path, flag: str, what: str) -> None:
    with taken_port() as port:
        result = subprocess.run(
            sandbox_command(flag, str(port)),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"cloudmodel-dev sandbox: port {port} ({what}) is already in use; choose another with "
        f"`cloudmodel-dev sandbox {flag} N` (or `make sandbox SANDBOX_FLAGS='{flag} N'`)"
    ]
    # Checked before anything starts: no control plane was booted for nothing.
    assert not (tmp_path / ".sandbox").exists()
