"""Starting, stopping and the foreground entry point."""

from __future__ import annotations

import logging
import socket
import threading
from pathlib import Path

import httpx
import pytest

from cloudmodel_dev import cli
from cloudmodel_dev.simulator import server
from cloudmodel_dev.simulator.bodies import SECRET_MARKER
from cloudmodel_dev.simulator.scenario import parse_scenario
from cloudmodel_dev.simulator.server import run_in_thread
from tests.unit.simulator import calls
from tests.unit.simulator.conftest import START, FakeClock, FakeSleep


def _simulator_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "cloudmodel-simulator"]


def test_starts_and_stops_cleanly() -> None:
    before = len(_simulator_threads())
    with run_in_thread(None) as sim:
        assert httpx.get(f"{sim.url}/_admin/targets").status_code == 200
        port = int(sim.url.rsplit(":", 1)[1])
    assert len(_simulator_threads()) == before
    with socket.create_server(("127.0.0.1", port)):
        pass  # the port was released


def test_stops_even_while_a_request_is_held() -> None:
    scenario = parse_scenario(
        {"verifySignatures": False, "targets": [{"provider": "baidu-qianfan", "id": "u"}]}
    )
    with run_in_thread(scenario) as sim:
        sim.add_fault("baidu-qianfan", "u", {"kind": "timeout", "seconds": 30})
        with pytest.raises(httpx.TimeoutException):
            httpx.post(
                f"{sim.url}/v2/computeunit?Action=DescribeComputeUnit", json={"instanceId": "u"}, timeout=0.2
            )
        assert sim.request_count("baidu-qianfan", "u", "timeout") == 1
    assert not _simulator_threads()


def test_port_in_use_is_reported() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(OSError, match="address already in use"), run_in_thread(None, port=port):
            pass
    assert not _simulator_threads()


def test_request_log_has_one_line_per_request_and_no_secrets(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="cloudmodel_dev.simulator")
    with run_in_thread(None, clock=FakeClock(), sleep=FakeSleep()) as sim:
        token = calls.iam_token(sim).headers["X-Subject-Token"]
        calls.modelarts_with_token(sim, calls.PROJECT, calls.SERVICE_RUNNING, token)
        calls.hologres(sim, "hgpostcn-cn-sandbox-ready", START)
        calls.guardrail(sim, 1001, 2, START, key=("LTAIsandbox", "wrong"))
        httpx.get(f"{sim.url}/_admin/targets")
    lines = [r.getMessage() for r in caplog.records if r.name == "cloudmodel_dev.simulator.server"]
    assert len(lines) == 4
    assert "-> 200 ok [alibaba-hologres hgpostcn-cn-sandbox-ready] by LTAIsandbox" in lines[2]
    assert "auth-rejected" in lines[3]
    text = "\n".join(lines)
    for secret in (token, "sandbox-password", "sandbox-alibaba-secret", SECRET_MARKER, "Signature="):
        assert secret not in text


def test_main_rejects_a_bad_scenario(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("targets: [{provider: nope, id: x}]\n")
    assert server.main(str(path), "127.0.0.1", 0) == 2
    assert "targets[0].provider" in caplog.text


def test_cli_simulate_reaches_main(tmp_path: Path) -> None:
    assert cli.main(["simulate", "--scenario", str(tmp_path / "absent.yaml")]) == 2


def test_main_reports_a_port_in_use() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        assert server.main(None, "127.0.0.1", taken.getsockname()[1]) == 1
