"""The admin API, driven over HTTP the way the documented curl one-liners do."""

from __future__ import annotations

import httpx

from cloudmodel_dev.simulator.server import SimulatorHandle
from tests.unit.simulator import calls
from tests.unit.simulator.conftest import START

MODELARTS_ID = f"{calls.PROJECT}/{calls.SERVICE_RUNNING}"


def test_list_targets(sim: SimulatorHandle) -> None:
    targets = httpx.get(f"{sim.url}/_admin/targets").json()["targets"]
    ids = {(t["provider"], t["id"]): t["state"] for t in targets}
    assert ids[("alibaba-guardrail", "1001/scene-2")] == "ok"
    assert ids[("huawei-modelarts", MODELARTS_ID)] == "running"
    assert len(ids) == 13  # nine sandbox samples and the four seed examples


def test_put_updates_a_target_like_the_documented_curl(sim: SimulatorHandle) -> None:
    # curl -X PUT http://127.0.0.1:PORT/_admin/targets/baidu-qianfan/unit-sandbox-running -d '{"state":"Releasing"}'
    response = httpx.put(
        f"{sim.url}/_admin/targets/baidu-qianfan/unit-sandbox-running",
        content=b'{"state":"Releasing"}',
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    body = calls.qianfan(sim, "unit-sandbox-running", START).json()
    assert body["result"]["computeUnitInstance"]["status"] == "Releasing"


def test_put_creates_a_target_with_a_slash_in_its_id(sim: SimulatorHandle) -> None:
    response = httpx.put(
        f"{sim.url}/_admin/targets/huawei-modelarts/{calls.PROJECT}/new-service",
        json={"state": "concerning", "response": {"config": [{"status": "concerning", "instance_count": 3}]}},
    )
    assert response.status_code == 201
    assert response.json()["id"] == f"{calls.PROJECT}/new-service"
    body = calls.modelarts(sim, calls.PROJECT, "new-service", START).json()
    assert body["status"] == "concerning"
    assert body["config"] == [{"status": "concerning", "instance_count": 3}]  # lists replace


def test_percent_encoded_slash_also_works(sim: SimulatorHandle) -> None:
    response = httpx.put(f"{sim.url}/_admin/targets/alibaba-guardrail/1002%2Fscene-1", json={})
    assert response.status_code == 201
    assert calls.guardrail(sim, 1002, 1, START).json()["ModelInstanceId"] == 1002


def test_response_overrides_deep_merge(sim: SimulatorHandle) -> None:
    httpx.put(
        f"{sim.url}/_admin/targets/alibaba-hologres/hgpostcn-cn-sandbox-ready",
        json={"response": {"cpuUsed": 8}},
    )
    body = calls.hologres(sim, "hgpostcn-cn-sandbox-ready", START).json()
    assert (body["cpuUsed"], body["cpu"], body["status"]) == (8, 32, "ResourceReady")


def test_put_rejects_bad_input(sim: SimulatorHandle) -> None:
    base = f"{sim.url}/_admin/targets"
    assert httpx.put(f"{base}/aws-sagemaker/x", json={}).status_code == 400
    assert "PROJECT_ID/SERVICE_ID" in httpx.put(f"{base}/huawei-modelarts/only-one", json={}).text
    assert httpx.put(f"{base}/baidu-qianfan/unit-x", json={"colour": "red"}).status_code == 400
    assert httpx.put(f"{base}/baidu-qianfan/unit-x", content=b"{nope").status_code == 400
    assert httpx.put(f"{base}/alibaba-guardrail/1/scene-0", json={"state": "broken"}).status_code == 400
    bad_timeline = httpx.put(f"{base}/baidu-qianfan/unit-x", json={"timeline": [{"after": "soon"}]})
    assert bad_timeline.status_code == 400
    assert "invalid duration" in bad_timeline.text


def test_faults_over_http(sim: SimulatorHandle) -> None:
    url = f"{sim.url}/_admin/targets/huawei-modelarts/{MODELARTS_ID}/faults"
    assert httpx.post(url, json={"kind": "throttle", "count": 2, "retryAfter": 1}).status_code == 201
    assert httpx.post(url, json={"kind": "explode"}).status_code == 400
    listed = [t for t in httpx.get(f"{sim.url}/_admin/targets").json()["targets"] if t["id"] == MODELARTS_ID]
    assert listed[0]["faults"] == [{"kind": "throttle", "count": 2, "retryAfter": 1.0, "remaining": 2}]
    assert calls.modelarts(sim, calls.PROJECT, calls.SERVICE_RUNNING, START).status_code == 429
    assert httpx.delete(url).json() == {"cleared": 1}
    assert calls.modelarts(sim, calls.PROJECT, calls.SERVICE_RUNNING, START).status_code == 200


def test_fault_on_unknown_target_is_404(sim: SimulatorHandle) -> None:
    response = httpx.post(
        f"{sim.url}/_admin/targets/baidu-qianfan/unit-nope/faults", json={"kind": "disconnect"}
    )
    assert response.status_code == 404


def test_delete_target(sim: SimulatorHandle) -> None:
    assert httpx.delete(f"{sim.url}/_admin/targets/baidu-qianfan/unit-sandbox-running").status_code == 200
    assert calls.qianfan(sim, "unit-sandbox-running", START).status_code == 404
    assert httpx.delete(f"{sim.url}/_admin/targets/baidu-qianfan/unit-sandbox-running").status_code == 404


def test_request_counters_and_reset(sim: SimulatorHandle) -> None:
    calls.qianfan(sim, "unit-sandbox-running", START)
    calls.qianfan(sim, "unit-sandbox-running", START)
    calls.qianfan(sim, "unit-sandbox-running", START, key=("bce-sandbox-ak", "wrong"))
    calls.hologres(sim, "hgpostcn-cn-nope", START)
    counters = httpx.get(f"{sim.url}/_admin/requests").json()
    assert counters["total"] == 4
    assert counters["providers"]["baidu-qianfan"] == {"ok": 2, "auth-rejected": 1}
    assert counters["targets"]["alibaba-hologres"] == {"hgpostcn-cn-nope": {"not-found": 1}}
    assert sim.request_count() == 4
    assert sim.request_count("baidu-qianfan") == 3
    assert sim.request_count(target="unit-sandbox-running", outcome="ok") == 2
    assert httpx.post(f"{sim.url}/_admin/reset-counters").status_code == 200
    assert httpx.get(f"{sim.url}/_admin/requests").json() == {"total": 0, "providers": {}, "targets": {}}
    assert sim.request_count() == 0


def test_handle_control_methods(sim: SimulatorHandle) -> None:
    assert sim.set_target("baidu-qianfan", "unit-new", state="Creating") is True
    assert sim.set_target("baidu-qianfan", "unit-new", state="Running") is False
    sim.add_fault("baidu-qianfan", "unit-new", {"kind": "not-found"})
    assert calls.qianfan(sim, "unit-new", START).status_code == 404
    sim.reset_counters()
    assert (
        calls.qianfan(sim, "unit-new", START).json()["result"]["computeUnitInstance"]["status"] == "Running"
    )
    assert sim.request_count("baidu-qianfan", "unit-new", "ok") == 1
