"""Every fault kind, in each provider's own terms, consumed in order and counted."""

from __future__ import annotations

import httpx
import pytest

from cloudmodel_dev.simulator.server import SimulatorHandle
from tests.unit.simulator import calls
from tests.unit.simulator.conftest import START, FakeSleep

HOLOGRES = ("alibaba-hologres", "hgpostcn-cn-sandbox-ready")
MODELARTS = ("huawei-modelarts", f"{calls.PROJECT}/{calls.SERVICE_RUNNING}")
QIANFAN = ("baidu-qianfan", "unit-sandbox-running")
GUARDRAIL = ("alibaba-guardrail", "1001/scene-2")


def _call(sim: SimulatorHandle, provider: str) -> httpx.Response:
    if provider == "alibaba-hologres":
        return calls.hologres(sim, HOLOGRES[1], START)
    if provider == "huawei-modelarts":
        return calls.modelarts(sim, calls.PROJECT, calls.SERVICE_RUNNING, START)
    if provider == "baidu-qianfan":
        return calls.qianfan(sim, QIANFAN[1], START)
    return calls.guardrail(sim, 1001, 2, START)


ALL = [HOLOGRES, MODELARTS, QIANFAN, GUARDRAIL]


@pytest.mark.parametrize(
    ("target", "status", "code", "header", "value"),
    [
        (HOLOGRES, 429, "Throttling.User", "x-acs-retry-after", "1500"),
        (GUARDRAIL, 429, "Throttling.User", "x-acs-retry-after", "1500"),
        (MODELARTS, 429, "APIG.0308", "Retry-After", "1.5"),
        (QIANFAN, 429, "TooManyRequests", "Retry-After", "1.5"),
    ],
)
def test_throttle_uses_the_provider_code_and_delay_header(
    sim: SimulatorHandle, target: tuple[str, str], status: int, code: str, header: str, value: str
) -> None:
    sim.add_fault(*target, {"kind": "throttle", "count": 2, "retryAfter": 1.5})
    for _ in range(2):
        response = _call(sim, target[0])
        assert response.status_code == status
        assert code in response.text
        assert response.headers[header] == value
    assert _call(sim, target[0]).status_code == 200
    assert sim.request_count(*target, outcome="throttle") == 2
    assert sim.request_count(*target, outcome="ok") == 1


@pytest.mark.parametrize(
    ("target", "code_field"),
    [(HOLOGRES, "Code"), (GUARDRAIL, "Code"), (MODELARTS, "error_code"), (QIANFAN, "code")],
)
def test_error_fault_defaults_to_an_internal_error(
    sim: SimulatorHandle, target: tuple[str, str], code_field: str
) -> None:
    sim.add_fault(*target, {"kind": "error"})
    response = _call(sim, target[0])
    assert response.status_code == 500
    assert response.json()[code_field]


def test_error_fault_with_explicit_status_code_and_message(sim: SimulatorHandle) -> None:
    sim.add_fault(*QIANFAN, {"kind": "error", "status": 503, "code": "ServiceBusy", "message": "try later"})
    response = _call(sim, "baidu-qianfan")
    assert response.status_code == 503
    assert response.json() == {
        "requestId": response.headers["x-bce-request-id"],
        "code": "ServiceBusy",
        "message": "try later",
    }


def test_guardrail_error_fault_with_status_200_is_a_body_error(sim: SimulatorHandle) -> None:
    sim.add_fault(*GUARDRAIL, {"kind": "error", "status": 200, "code": "SystemBusy"})
    response = _call(sim, "alibaba-guardrail")
    assert response.status_code == 200
    assert (response.json()["Success"], response.json()["Code"]) == (False, "SystemBusy")


@pytest.mark.parametrize("target", ALL)
def test_not_found_fault_uses_the_provider_shape(sim: SimulatorHandle, target: tuple[str, str]) -> None:
    sim.add_fault(*target, {"kind": "not-found"})
    response = _call(sim, target[0])
    assert response.status_code == (200 if target is GUARDRAIL else 404)
    assert sim.request_count(*target, outcome="not-found") == 1


@pytest.mark.parametrize("target", ALL)
def test_latency_sleeps_then_answers(
    sim: SimulatorHandle, fake_sleep: FakeSleep, target: tuple[str, str]
) -> None:
    sim.add_fault(*target, {"kind": "latency", "seconds": 2.5})
    assert _call(sim, target[0]).status_code == 200
    assert fake_sleep.calls == [2.5]


@pytest.mark.parametrize("target", ALL)
def test_timeout_holds_then_drops_the_connection(
    sim: SimulatorHandle, fake_sleep: FakeSleep, target: tuple[str, str]
) -> None:
    sim.add_fault(*target, {"kind": "timeout", "seconds": 40})
    with pytest.raises(httpx.RemoteProtocolError):
        _call(sim, target[0])
    assert fake_sleep.calls == [40]
    assert _call(sim, target[0]).status_code == 200


@pytest.mark.parametrize("target", ALL)
def test_disconnect_drops_without_an_answer(sim: SimulatorHandle, target: tuple[str, str]) -> None:
    sim.add_fault(*target, {"kind": "disconnect"})
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        _call(sim, target[0])
    assert sim.request_count(*target, outcome="disconnect") == 1


@pytest.mark.parametrize("target", ALL)
def test_bad_json_is_http_200_with_an_unparsable_body(sim: SimulatorHandle, target: tuple[str, str]) -> None:
    sim.add_fault(*target, {"kind": "bad-json"})
    response = _call(sim, target[0])
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    with pytest.raises(ValueError):  # noqa: PT011 - any JSON decoding error
        response.json()


@pytest.mark.parametrize("target", ALL)
def test_truncated_closes_mid_body(sim: SimulatorHandle, target: tuple[str, str]) -> None:
    sim.add_fault(*target, {"kind": "truncated"})
    with pytest.raises(httpx.RemoteProtocolError, match=r"complete message body"):
        _call(sim, target[0])


@pytest.mark.parametrize(
    ("target", "read"),
    [
        (HOLOGRES, lambda body: body["status"]),
        (MODELARTS, lambda body: body["status"]),
        (QIANFAN, lambda body: body["result"]["computeUnitInstance"]["status"]),
        (GUARDRAIL, lambda body: body["ModelSource"]),
    ],
)
def test_unknown_state_serves_a_value_outside_the_enum(
    sim: SimulatorHandle, target: tuple[str, str], read: object
) -> None:
    sim.add_fault(*target, {"kind": "unknown-state"})
    body = _call(sim, target[0]).json()
    assert read(body) in ("SandboxUnknownState", "sandbox_unknown_state", 7)  # type: ignore[operator]


def test_unknown_state_value_can_be_chosen(sim: SimulatorHandle) -> None:
    sim.add_fault(*HOLOGRES, {"kind": "unknown-state", "state": "Hibernating"})
    assert _call(sim, "alibaba-hologres").json()["status"] == "Hibernating"


def test_faults_are_consumed_in_order(sim: SimulatorHandle) -> None:
    sim.add_fault(*QIANFAN, {"kind": "error", "count": 1})
    sim.add_fault(*QIANFAN, {"kind": "throttle", "count": 2})
    statuses = [_call(sim, "baidu-qianfan").status_code for _ in range(4)]
    assert statuses == [500, 429, 429, 200]


def test_forever_fault_until_cleared(sim: SimulatorHandle) -> None:
    sim.add_fault(*MODELARTS, {"kind": "throttle", "count": -1})
    assert [_call(sim, "huawei-modelarts").status_code for _ in range(5)] == [429] * 5
    assert sim.clear_faults(*MODELARTS) == 1
    assert _call(sim, "huawei-modelarts").status_code == 200


def test_auth_is_checked_before_faults(sim: SimulatorHandle) -> None:
    sim.add_fault(*HOLOGRES, {"kind": "throttle"})
    rejected = calls.hologres(sim, HOLOGRES[1], START, key=("LTAIsandbox", "wrong"))
    assert rejected.json()["Code"] == "SignatureDoesNotMatch"
    assert _call(sim, "alibaba-hologres").status_code == 429


def test_scenario_faults_apply_from_the_start(clock: object, fake_sleep: FakeSleep) -> None:
    from cloudmodel_dev.simulator.scenario import parse_scenario
    from cloudmodel_dev.simulator.server import run_in_thread

    scenario = parse_scenario(
        {
            "accounts": {"baidu": [{"accessKey": "bce-sandbox-ak", "secretKey": "sandbox-baidu-secret"}]},
            "targets": [
                {
                    "provider": "baidu-qianfan",
                    "id": "unit-sandbox-running",
                    "faults": [{"kind": "throttle", "count": 1}],
                }
            ],
        }
    )
    with run_in_thread(scenario, clock=clock, sleep=fake_sleep) as sim:  # type: ignore[arg-type]
        assert [_call(sim, "baidu-qianfan").status_code for _ in range(2)] == [429, 200]
