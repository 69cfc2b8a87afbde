"""The seed examples byte for byte, and the hostile fault kinds, as they look on the wire.

Requests are signed by the providers' official SDKs (tests/oracles), so these are the answers a
real client gets; what the operator makes of them is tested in tests/unit/providers.
"""

from __future__ import annotations

import gzip
import json
import math
import zlib

import httpx
import pytest

from cloudmodel_dev.simulator.bodies import qianfan as qianfan_bodies
from cloudmodel_dev.simulator.scenario import MiB
from cloudmodel_dev.simulator.server import SimulatorHandle
from tests.seeds.examples import example_bytes
from tests.unit.simulator import calls
from tests.unit.simulator.conftest import START, FakeSleep

SEED_SERVICE = "f76f20ba-78f5-44e8-893a-37c8c600c02f"
QIANFAN = ("baidu-qianfan", "unit-sandbox-running")


def seed_call(sim: SimulatorHandle, provider: str) -> httpx.Response:
    if provider == "alibaba-hologres":
        return calls.hologres(sim, "hgpostcn-cn-7mz2vmuxxxx", START)
    if provider == "huawei-modelarts":
        return calls.modelarts(sim, calls.PROJECT, SEED_SERVICE, START)
    if provider == "baidu-qianfan":
        return calls.qianfan(sim, "unit-xxx", START)
    return calls.guardrail(sim, 123, 2, START)


@pytest.mark.parametrize(
    "provider", ["alibaba-hologres", "huawei-modelarts", "baidu-qianfan", "alibaba-guardrail"]
)
def test_seed_example_ids_answer_the_seed_example_byte_for_byte(sim: SimulatorHandle, provider: str) -> None:
    response = seed_call(sim, provider)
    assert response.status_code == 200
    assert response.content == example_bytes(provider)


def test_a_state_change_starts_from_the_seed_example(sim: SimulatorHandle) -> None:
    sim.set_target("baidu-qianfan", "unit-xxx", state="Releasing")
    body = seed_call(sim, "baidu-qianfan").json()
    assert body["result"]["computeUnitInstance"]["status"] == "Releasing"
    assert body["result"]["serviceInfoList"][0]["serviceName"] == "xxxx"  # the example's own
    sim.set_target("baidu-qianfan", "unit-xxx", state="Running")
    assert seed_call(sim, "baidu-qianfan").content == example_bytes("baidu-qianfan")


def test_drip_sends_one_byte_per_interval(sim: SimulatorHandle, fake_sleep: FakeSleep) -> None:
    sim.add_fault(*QIANFAN, {"kind": "drip", "seconds": 3})
    response = calls.qianfan(sim, QIANFAN[1], START)
    assert response.json()["result"]["computeUnitInstance"]["status"] == "Running"
    assert len(fake_sleep.calls) == len(response.content)
    assert set(fake_sleep.calls) == {3.0}


def test_huge_body_announces_its_length(sim: SimulatorHandle) -> None:
    sim.add_fault(*QIANFAN, {"kind": "huge-body", "size": 3 * MiB})
    response = calls.qianfan(sim, QIANFAN[1], START)
    assert response.headers["content-length"] == str(3 * MiB)
    assert len(response.content) == 3 * MiB
    assert response.content.startswith(b'{"padding":"xxx')


def test_endless_is_chunked_and_stops_when_the_client_leaves(sim: SimulatorHandle) -> None:
    sim.add_fault(*QIANFAN, {"kind": "endless"})
    received = 0
    with httpx.Client() as client:
        request = calls.qianfan_request(sim, QIANFAN[1], START)
        with client.stream(
            request.method, request.url, headers=request.headers, content=request.content
        ) as response:
            assert response.headers.get("transfer-encoding") == "chunked"
            assert "content-length" not in response.headers
            for chunk in response.iter_raw():
                received += len(chunk)
                if received > 2 * MiB:
                    break
    assert received > 2 * MiB
    # The simulator noticed and stopped: it still answers normally.
    assert calls.qianfan(sim, QIANFAN[1], START).status_code == 200


def test_gzip_bomb_is_small_on_the_wire_and_huge_decoded(sim: SimulatorHandle) -> None:
    sim.add_fault(*QIANFAN, {"kind": "gzip-bomb", "size": 64 * MiB})
    with httpx.Client() as client:
        request = calls.qianfan_request(sim, QIANFAN[1], START)
        with client.stream(
            request.method, request.url, headers=request.headers, content=request.content
        ) as response:
            assert response.headers["content-encoding"] == "gzip"
            wire = b"".join(response.iter_raw())
    assert len(wire) < MiB // 8
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    assert len(decoder.decompress(wire, 1024)) == 1024
    assert decoder.unconsumed_tail  # far more than that
    assert len(gzip.decompress(wire)) == 64 * MiB


def test_echo_credentials_quotes_the_request_in_every_text(sim: SimulatorHandle) -> None:
    sim.add_fault(*QIANFAN, {"kind": "echo-credentials"})
    body = calls.qianfan(sim, QIANFAN[1], START).json()
    unit = body["result"]["computeUnitInstance"]
    for text in (unit["instanceId"], unit["status"], body["result"]["serviceInfoList"][0]["serviceName"]):
        assert "sandbox-baidu-secret" in text  # the account's secret key
        assert "Authorization: bce-auth-v1/bce-sandbox-ak/" in text
    assert unit["startTime"] == qianfan_bodies.START_TIME  # times are not texts


@pytest.mark.parametrize(("numbers", "check"), [
    ("nan", math.isnan), ("infinity", math.isinf), ("negative", lambda v: v == -5), ("huge", lambda v: v == 1e30),
])  # fmt: skip
def test_bad_numbers_replace_every_number(sim: SimulatorHandle, numbers: str, check: object) -> None:
    sim.add_fault(*QIANFAN, {"kind": "bad-numbers", "numbers": numbers})
    body = json.loads(calls.qianfan(sim, QIANFAN[1], START).content)  # Python reads NaN/Infinity
    unit = body["result"]["computeUnitInstance"]
    assert check(unit["totalComputeUnits"])  # type: ignore[operator]
    assert check(unit["usedComputeUnits"])  # type: ignore[operator]
    assert unit["autoRenew"]["renewTime"] == unit["totalComputeUnits"] or numbers == "nan"


def test_deep_nesting(sim: SimulatorHandle) -> None:
    sim.add_fault(*QIANFAN, {"kind": "deep-nesting", "depth": 50_000})
    content = calls.qianfan(sim, QIANFAN[1], START).content
    assert content.startswith(b'{"nested":' + b"[" * 50_000 + b"]")
    assert content.count(b"[") == 50_000


def test_the_new_fault_kinds_are_documented() -> None:
    from tests.conftest import REPO

    doc = (REPO / "docs" / "simulator.md").read_text(encoding="utf-8")
    for kind in (
        "drip",
        "huge-body",
        "endless",
        "gzip-bomb",
        "echo-credentials",
        "bad-numbers",
        "deep-nesting",
    ):
        assert f"| `{kind}` |" in doc, kind
