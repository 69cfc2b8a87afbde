"""The vulnerability audit: the runtime set passes, a known-vulnerable pin fails, and an
unreachable advisory service is reported as such, neither passed silently nor failed spuriously.

These talk to PyPI (the only advisory data CI can reach), as `make audit` does.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from hack import lockfile

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_LOCK = ROOT / "requirements" / "runtime.lock"
# PyCrypto's last release (2013, the project is dead): four published advisories, no fix, and
# always its latest release, so both of the audit's sources can read its record.
VULNERABLE_PIN = (
    "pycrypto==2.6.1 \\\n    --hash=sha256:f2ce1e989b272cfcb677616763e0a2e7ec659effa67a88aa92b3a65528f60a3c\n"
)
PYCRYPTO_ADVISORY = "PYSEC-2018-97"  # CVE-2018-6594, weak ElGamal key parameters


def run_audit(lock: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hack.audit", str(lock), *args],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=300, env=env,
    )  # fmt: skip


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_runtime_lock_has_no_known_vulnerability(tmp_path: Path) -> None:
    report_path = tmp_path / "audit.json"
    result = run_audit(RUNTIME_LOCK, "--report", str(report_path))
    print(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(report_path.read_text())
    assert report["findings"] == []
    # Every pinned package is accounted for exactly once: audited, or named with the reason it was not.
    accounted = (
        report["audited_by_pip_audit"] + report["audited_from_latest_release"] + list(report["not_audited"])
    )
    assert sorted(accounted) == sorted(lockfile.read(RUNTIME_LOCK))
    assert all(reason for reason in report["not_audited"].values())
    if report["not_audited"]:
        assert "AUDIT INCOMPLETE" in result.stdout


def test_a_known_vulnerable_pin_fails_the_audit(tmp_path: Path) -> None:
    lock = tmp_path / "vulnerable.lock"
    lock.write_text(VULNERABLE_PIN)
    result = run_audit(lock)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"VULNERABLE pycrypto==2.6.1: {PYCRYPTO_ADVISORY}" in result.stdout


def test_an_unreachable_advisory_service_is_reported_not_passed(tmp_path: Path) -> None:
    lock = tmp_path / "vulnerable.lock"
    lock.write_text(VULNERABLE_PIN)
    dead_proxy = f"http://127.0.0.1:{closed_port()}"
    env = {key: value for key, value in os.environ.items() if key.lower() not in {"no_proxy", "all_proxy"}}
    env.update(HTTPS_PROXY=dead_proxy, https_proxy=dead_proxy, HTTP_PROXY=dead_proxy, http_proxy=dead_proxy)
    result = run_audit(lock, env=env)
    assert result.returncode == 0, result.stdout + result.stderr  # not a spurious red...
    assert "AUDIT INCOMPLETE: 1 of 1 packages could not be checked" in result.stdout  # ...nor a silent green
    assert "pycrypto: pip-audit could not reach PyPI" in result.stdout
    assert "VULNERABLE" not in result.stdout
    assert "0 audited" in result.stdout
    strict = run_audit(lock, "--strict", env=env)
    assert strict.returncode == 3, strict.stdout + strict.stderr


def test_a_lock_without_hashes_is_refused(tmp_path: Path) -> None:
    lock = tmp_path / "unhashed.lock"
    lock.write_text("httpx==0.28.1\n")
    result = run_audit(lock)
    assert result.returncode == 2
    assert "pins without a hash: httpx" in result.stderr
