"""Seed response bodies -> normalized observation, one table per provider.

The bodies are the seed documents' examples (as the simulator serves them); the expected phases
are the seed enums read against the notes' phase tables, written out here rather than imported,
so a change to a mapping table has to be a deliberate change to this file too.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from cloudmodel_dev.simulator.bodies import SECRET_VALUES, guardrail, hologres, modelarts, qianfan
from cloudmodel_operator.api.observation import Observation, Phase
from cloudmodel_operator.providers.alibaba.mapping import map_instance_model, map_model_instance
from cloudmodel_operator.providers.alibaba.models import InstanceModel, ModelInstanceInfo
from cloudmodel_operator.providers.baidu.mapping import map_compute_unit
from cloudmodel_operator.providers.baidu.models import DescribeComputeUnitResponse
from cloudmodel_operator.providers.huawei.mapping import map_service
from cloudmodel_operator.providers.huawei.models import ServiceDetails

PROJECT, SERVICE = "0c9d4a5e2b1f4c6d8e7f0a1b2c3d4e5f", "6f1c2b9e-3d4a-4b8c-9e7f-1a2b3c4d5e6f"


def hologres_of(body: dict[str, Any]) -> Observation:
    return map_instance_model(InstanceModel.model_validate(body))


def guardrail_of(body: dict[str, Any]) -> Observation:
    return map_model_instance(ModelInstanceInfo.model_validate(body))


def modelarts_of(body: dict[str, Any]) -> Observation:
    return map_service(ServiceDetails.model_validate(body))


def qianfan_of(body: dict[str, Any], request_id: str | None = None) -> Observation:
    return map_compute_unit(DescribeComputeUnitResponse.model_validate(body), request_id)


def as_text(observation: Observation) -> str:
    return observation.model_dump_json()


# -- alibaba-hologres -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("node", "expected"),
    [("ResourceReady", Phase.READY), ("InstanceWaiting", Phase.PROGRESSING), ("Exploded", Phase.UNKNOWN)],
)
def test_hologres_node_status(node: str, expected: Phase) -> None:
    observation = hologres_of(hologres.default_body("hgpostcn-cn-x", node))
    assert (observation.phase, observation.providerState) == (expected, node)


@pytest.mark.parametrize(
    ("service_status", "message", "expected"),
    [
        ("Running", "", Phase.READY),
        # Free text never overrides a documented state: a Running service with a message is Running.
        ("Running", "one replica restarted", Phase.READY),
        ("Deploying", "", Phase.PROGRESSING),
        ("Creating", "", Phase.PROGRESSING),
        ("Failed", "image missing", Phase.FAILED),
        ("Stopped", "", Phase.STOPPED),
        ("SomethingNew", "", Phase.UNKNOWN),
    ],
)
def test_hologres_service_status_decides_a_ready_node(
    service_status: str, message: str, expected: Phase
) -> None:
    body = hologres.default_body("hgpostcn-cn-x", "ResourceReady")
    body["modelServiceList"][0].update(status=service_status, message=message)
    observation = hologres_of(body)
    assert observation.phase is expected  # one service: the resource is what it is
    assert observation.services[0].state == service_status


def test_hologres_one_bad_service_of_two_degrades_the_resource() -> None:
    body = hologres.default_body("hgpostcn-cn-x", "ResourceReady")
    second = copy.deepcopy(body["modelServiceList"][0]) | {"modelName": "other", "status": "Failed"}
    body["modelServiceList"].append(second)
    observation = hologres_of(body)
    assert observation.phase is Phase.DEGRADED
    assert observation.replicas.model_dump() == {"desired": 4, "ready": 2}
    assert "other" in (observation.message or "")


def test_hologres_seed_example_lands_in_the_status() -> None:
    # The simulator moves the seed's (long past) expiry relative to its start; the seed's own value here.
    seed_expiry = {"expirationTime": "2026-01-28T07:44:27.535Z"}
    observation = hologres_of(
        hologres.default_body("hgpostcn-cn-x", "ResourceReady") | seed_expiry | {"requestId": "R-1"}
    )
    resources = observation.resources.model_dump(exclude_none=True)
    # seed: cpu 32 / cpuUsed 32 cores, gpu 4 / 2 cards, memory 128 / 64 GiB, gpuMemory 128 / 64 GB
    assert resources == {
        "cpu": {"total": "32", "used": "32"},
        "gpu": {"total": "4", "used": "2"},
        "memory": {"total": "128Gi", "used": "64Gi"},
        "gpuMemory": {"total": "128Gi", "used": "64Gi"},
    }
    assert observation.replicas.model_dump() == {"desired": 2, "ready": 2}  # serviceCount 2, Running
    [service] = observation.services
    assert (service.name, service.model, service.version, service.taskType) == (
        "my_model",
        "qwen3.5-plus",
        "v1.1",
        "embedding",
    )
    assert service.resources is not None
    # The service's total ("occupied by this model service"); no per-replica figure is derived.
    assert service.resources.model_dump(exclude_none=True) == {
        "total": {"cpu": "32", "gpu": "2", "memory": "32Gi", "gpuMemory": "32Gi"}
    }
    assert service.attributes == {
        "provider": "bailian",
        "instanceRegion": "cn-beijing",
        "serviceDeployRegion": "cn-beijing",
        "modelParams.timeout": "600",
        "modelParams.max_retries": "10",
        "modelParams.max_retry_delay": "8",
        "modelParams.initial_retry_delay": "0.5",
    }
    assert observation.billing is not None
    assert observation.billing.model_dump(mode="json", exclude_none=True) == {
        "chargeType": "PrePaid",
        "expirationTime": "2026-01-28T07:44:27Z",
        "autoRenew": True,
    }
    assert observation.attributes == {
        "aiInstanceId": "hologram_aicombo_public_hgpostcn-cn-x",
        "nodeCount": "2",
        "resourceType": "middle",
        "regionId": "cn-shanghai",
        "commodityCode": "hologram_aipostpay_public_cn",
    }
    assert observation.requestId == "R-1"


def test_hologres_model_params_pass_only_the_allow_list() -> None:
    body = hologres.default_body("hgpostcn-cn-x", "ResourceReady")
    body["modelServiceList"][0]["modelParams"] = (
        '{"timeout": 5, "api_key": "sk-not-for-status", "headers": {"a": 1}}'
    )
    [service] = hologres_of(body).services
    assert {k: v for k, v in service.attributes.items() if k.startswith("modelParams.")} == {
        "modelParams.timeout": "5"
    }


@pytest.mark.parametrize("params", ["not json", "[1, 2]", None])
def test_hologres_unparseable_model_params_are_left_out(params: str | None) -> None:
    body = hologres.default_body("hgpostcn-cn-x", "ResourceReady")
    body["modelServiceList"][0]["modelParams"] = params
    [service] = hologres_of(body).services
    assert not any(k.startswith("modelParams.") for k in service.attributes)


def test_hologres_waiting_node_without_services() -> None:
    body = {"status": "InstanceWaiting", "cpu": 32, "gpu": 4}
    observation = hologres_of(body)
    assert observation.phase is Phase.PROGRESSING
    assert observation.message == "the AI node is being prepared"
    assert observation.replicas.model_dump() == {"desired": None, "ready": None}  # no service counts
    assert observation.resources.cpu is not None
    assert observation.resources.cpu.used is None


# -- alibaba-guardrail ------------------------------------------------------------------------------


def test_guardrail_seed_example_lands_in_the_status() -> None:
    body = guardrail.default_body("1001/2", "ok") | {"RequestId": "G-1"}
    observation = guardrail_of(body)
    assert observation.phase is Phase.READY
    assert [(e.type, e.url) for e in observation.endpoints] == [
        ("public", body["ModelUrl"]),
        ("vpc", body["ModelVpcUrl"]),
    ]
    [service] = observation.services
    assert (service.name, service.id, service.model) == (
        "rai_content_detection_model",
        "eas-m-12345678",
        "demo",
    )
    assert observation.attributes == {
        "modelInstanceId": "1001",
        "modelSource": "PAI",  # 1 = PAI, 2 = other
        "supportsText": "true",
        "supportsImage": "true",
        "modelCategoryId": "1",
        "description": "opencompass-vllm07-acc",
        # CategoryType 0 = text, SecurityLevel 1 = medium, InputOutputType 0 = input
        "harmfulCategories": "伦理道德(text, level medium, input)",
        "promptAttacks": "角色扮演(level medium)",
        "modifiedAt": "2021-10-13T10:52:29Z",  # GmtModified 1634122349000 ms
    }
    assert observation.requestId == "G-1"


@pytest.mark.parametrize(
    ("io_type", "category_type", "level", "shown"),
    [
        (1, 1, 2, "(image, level high, output)"),
        (2, 0, 0, "(text, level low, both)"),
        (None, None, 2, "(level high)"),
        (0, 5, 9, "(5, level 9, input)"),  # undocumented numbers stay numbers
    ],
)
def test_guardrail_category_words(
    io_type: int | None, category_type: int | None, level: int, shown: str
) -> None:
    body = guardrail.default_body("1001/2", "ok")
    body["HarmfulCategoryConfigInfoList"] = [
        {"CategoryId": 9, "CategoryLabel": "x", "SecurityLevel": level, "InputOutputType": io_type,
         "CategoryType": category_type}
    ]  # fmt: skip
    assert guardrail_of(body).attributes["harmfulCategories"] == f"x{shown}"


def test_guardrail_code_is_not_a_state() -> None:
    observation = guardrail_of(guardrail.default_body("1001/2", "ok"))
    assert observation.providerState is None
    assert "00000" not in observation.model_dump_json()


def test_guardrail_without_urls_is_not_ready() -> None:
    body = guardrail.default_body("1001/2", "ok")
    body.pop("ModelUrl")
    body.pop("ModelVpcUrl")
    observation = guardrail_of(body)
    assert observation.phase is Phase.UNKNOWN
    assert observation.endpoints == []
    assert observation.message == "the model instance has no URL yet"


def test_guardrail_unknown_model_source_is_kept_raw() -> None:
    observation = guardrail_of(guardrail.default_body("1001/2", "ok") | {"ModelSource": 7})
    assert observation.attributes["modelSource"] == "7"


# -- huawei-modelarts -------------------------------------------------------------------------------

MODELARTS_PHASES = [
    ("running", Phase.READY),
    ("deploying", Phase.PROGRESSING),
    ("pending", Phase.PROGRESSING),
    ("waiting", Phase.PROGRESSING),
    ("stopping", Phase.PROGRESSING),
    ("deleting", Phase.PROGRESSING),
    ("concerning", Phase.DEGRADED),
    ("failed", Phase.FAILED),
    ("stopped", Phase.STOPPED),
    ("finished", Phase.STOPPED),
    ("sandbox_unknown_state", Phase.UNKNOWN),
]


def test_every_modelarts_seed_state_is_in_the_table() -> None:
    assert set(modelarts.STATES) <= {state for state, _ in MODELARTS_PHASES}


@pytest.mark.parametrize(("state", "expected"), MODELARTS_PHASES)
def test_modelarts_service_status(state: str, expected: Phase) -> None:
    observation = modelarts_of(modelarts.default_body(f"{PROJECT}/{SERVICE}", state))
    assert (observation.phase, observation.providerState) == (expected, state)


def test_modelarts_seed_example_lands_in_the_status() -> None:
    observation = modelarts_of(modelarts.default_body(f"{PROJECT}/{SERVICE}", "running"))
    [service] = observation.services
    assert (service.id, service.model, service.version) == (
        "044ebf3d-8bf4-48df-bf40-bad0e664c1e2",
        "jar-model",
        "1.0.1",
    )
    assert (service.replicas, service.readyReplicas, service.weight, service.specification) == (
        1,
        1,
        100,
        "custom",
    )
    assert service.resources is not None
    # custom_spec: cpu 2.0 cores, memory 8192 MB, gpu_p4 1.0, per instance; 1 instance in total
    assert service.resources.model_dump(exclude_none=True) == {
        "perReplica": {"cpu": "2", "memory": "8192Mi", "gpu": "1"},
        "total": {"cpu": "2", "memory": "8192Mi", "gpu": "1"},
    }
    assert observation.replicas.model_dump() == {"desired": 1, "ready": 1}
    assert [(e.type, e.url) for e in observation.endpoints] == [
        ("access", f"https://sandbox.apig.cn-north-4.huaweicloudapis.com/v1/infers/{SERVICE}")
    ]
    assert observation.counters == {"invocations": 1200.0, "failedInvocations": 3.0}
    assert "invocationTimes" not in observation.attributes
    assert observation.attributes["inferType"] == "real-time"
    assert observation.attributes["publishedAt"] == "2020-04-02T06:33:51Z"  # 1585809231902 ms


def test_modelarts_failure_message_and_progress() -> None:
    failed = modelarts_of(modelarts.default_body(f"{PROJECT}/{SERVICE}", "failed"))
    assert failed.message == "Deploy service failed: image pull failed for jar-model 1.0.1."
    deploying = modelarts_of(modelarts.default_body(f"{PROJECT}/{SERVICE}", "deploying"))
    assert deploying.message == "deploying (40%); jar-model: notReady (0/1 instances ready)"


def test_modelarts_config_not_ready_is_outside_the_enum_but_handled() -> None:
    # The seed's own example shows config[].status "notReady", which its enum does not list.
    body = modelarts.default_body(f"{PROJECT}/{SERVICE}", "deploying")
    body["config"][0]["status"] = "notReady"
    [service] = modelarts_of(body).services
    assert (service.phase, service.readyReplicas) == (Phase.PROGRESSING, 0)


def test_modelarts_unhealthy_edge_node_degrades_a_running_service() -> None:
    body = modelarts.default_body(f"{PROJECT}/{SERVICE}", "running") | {
        "infer_type": "edge",
        "nodes": [
            {"id": "n1", "name": "edge-1", "state": "ready", "predict_url": "https://10.0.0.1:1234/"},
            {"id": "n2", "name": "edge-2", "state": "UNCONNECTED", "message": "heartbeat lost"},
        ],
    }
    observation = modelarts_of(body)
    assert observation.phase is Phase.DEGRADED
    assert "edge-2: heartbeat lost" in (observation.message or "")
    assert ("predict", "https://10.0.0.1:1234/") in [(e.type, e.url) for e in observation.endpoints]


def test_modelarts_flavor_details_give_resources_when_there_is_no_custom_spec() -> None:
    body = modelarts.default_body(f"{PROJECT}/{SERVICE}", "running")
    config = body["config"][0]
    config.pop("custom_spec")
    config.update(
        specification="modelarts.vm.gpu.t4",
        specification_details={
            "display_en": "GPU: 1*NVIDIA-T4(16GB) | CPU: 8 vCPUs 32GB",
            "category": "GPU",
            "cpu_info": {"cpu": 8, "arch": "x86"},
            "memory_info": {"memory": 32, "unit": "GB"},
            "gpu_info": {"gpu": 1, "brand": "NVIDIA", "version": "T4", "memory": 16, "unit": "GB"},
        },
    )
    config["instance_count"] = 3
    [service] = modelarts_of(body).services
    assert service.resources is not None
    # A flavor is per instance; the total is x instance_count (3).
    assert service.resources.model_dump(exclude_none=True) == {
        "perReplica": {"cpu": "8", "memory": "32Gi", "gpu": "1", "gpuMemory": "16Gi"},
        "total": {"cpu": "24", "memory": "96Gi", "gpu": "3", "gpuMemory": "48Gi"},
    }
    assert service.attributes["flavor"] == "GPU: 1*NVIDIA-T4(16GB) | CPU: 8 vCPUs 32GB"
    assert (service.attributes["category"], service.attributes["gpuModel"], service.attributes["cpuArch"]) == (
        "GPU", "NVIDIA T4", "x86",
    )  # fmt: skip


def test_modelarts_edge_nodes_under_a_config_are_read() -> None:
    body = modelarts.default_body(f"{PROJECT}/{SERVICE}", "running") | {"infer_type": "edge"}
    body["config"][0]["nodes"] = [
        {
            "id": "n1",
            "name": "edge-1",
            "instance_status": "running",
            "state": "RUNNING",
            "predict_url": "https://e1/",
        },
        {
            "id": "n2",
            "name": "edge-2",
            "instance_status": "notReady",
            "state": "RUNNING",
            "message": "pulling",
        },
    ]
    body["config"][0]["instance_count"] = 2
    observation = modelarts_of(body)
    # A model instance not ready yet on one node: the service is not ready, it is starting there.
    assert observation.phase is Phase.PROGRESSING
    assert "edge-2: pulling" in (observation.message or "")
    assert ("predict", "https://e1/") in [(e.type, e.url) for e in observation.endpoints]
    assert observation.services[0].attributes["edgeNodes"] == "2"
    assert observation.replicas.model_dump() == {"desired": 2, "ready": 1}  # one node ready


@pytest.mark.parametrize(
    ("instance_status", "host_state", "expected"),
    [
        ("failed", "RUNNING", Phase.DEGRADED),  # one of two nodes failed: the service degrades
        ("running", "FAIL", Phase.DEGRADED),  # the host failed under a running instance
        ("stopped", "RUNNING", Phase.READY),  # stopped on purpose: named, not degrading
    ],
)
def test_modelarts_edge_node_states_count(instance_status: str, host_state: str, expected: Phase) -> None:
    body = modelarts.default_body(f"{PROJECT}/{SERVICE}", "running") | {"infer_type": "edge"}
    body["config"][0]["nodes"] = [
        {"id": "n1", "name": "edge-1", "instance_status": "running", "state": "RUNNING"},
        {"id": "n2", "name": "edge-2", "instance_status": instance_status, "state": host_state},
    ]
    assert modelarts_of(body).phase is expected


def test_modelarts_all_edge_nodes_failed_fail_the_service() -> None:
    body = modelarts.default_body(f"{PROJECT}/{SERVICE}", "running") | {"infer_type": "edge"}
    body["config"][0]["nodes"] = [{"id": "n1", "instance_status": "failed", "message": "oom"}]
    observation = modelarts_of(body)
    assert observation.phase is Phase.FAILED
    assert "n1: oom" in (observation.message or "")


def test_modelarts_empty_custom_spec_does_not_hide_the_flavor() -> None:
    body = modelarts.default_body(f"{PROJECT}/{SERVICE}", "running")
    body["config"][0].update(
        custom_spec={},
        specification_details={"cpu_info": {"cpu": 2}, "memory_info": {"memory": 8, "unit": "GB"}},
    )
    [service] = modelarts_of(body).services
    assert service.resources is not None
    assert service.resources.model_dump(exclude_none=True)["perReplica"] == {"cpu": "2", "memory": "8Gi"}


def test_modelarts_network_and_batch_fields_land_in_attributes() -> None:
    body = modelarts.default_body(f"{PROJECT}/{SERVICE}", "running") | {
        "vpc_id": "vpc-1",
        "subnet_network_id": "subnet-1",
        "security_group_id": "sg-1",
        "load_balancer_policy": "ROUND_ROBIN",
        "priority": 2,
        "description": "demo service",
    }
    body["config"][0].update(
        src_path="https://bucket.obs.example.com/in/", dest_path="https://bucket.obs.example.com/out/",
        req_uri="/", mapping_type="file", start_time=1585809231902, finished_time=1585809358259,
    )  # fmt: skip
    observation = modelarts_of(body)
    assert {k: observation.attributes[k] for k in ("vpcId", "subnetNetworkId", "securityGroupId")} == {
        "vpcId": "vpc-1", "subnetNetworkId": "subnet-1", "securityGroupId": "sg-1",
    }  # fmt: skip
    assert (observation.attributes["loadBalancerPolicy"], observation.attributes["priority"]) == (
        "ROUND_ROBIN",
        "2",
    )
    assert observation.attributes["description"] == "demo service"
    attributes = observation.services[0].attributes
    assert (attributes["startedAt"], attributes["finishedAt"]) == (
        "2020-04-02T06:33:51Z",
        "2020-04-02T06:35:58Z",
    )
    assert (attributes["srcPath"], attributes["destPath"], attributes["mappingType"]) == (
        "https://bucket.obs.example.com/in/", "https://bucket.obs.example.com/out/", "file",
    )  # fmt: skip


def test_modelarts_account_identifiers_and_additional_properties_are_not_kept() -> None:
    body = modelarts.default_body(f"{PROJECT}/{SERVICE}", "running") | {
        "owner": "owner-id-123", "additional_properties": {"k": "v-hidden"},
    }  # fmt: skip
    text = as_text(modelarts_of(body))
    assert "owner-id-123" not in text
    assert "v-hidden" not in text


def test_modelarts_due_time_is_the_auto_stop_time_not_billing() -> None:
    body = modelarts.default_body(f"{PROJECT}/{SERVICE}", "running") | {"due_time": 1586249085447}
    observation = modelarts_of(body)
    assert observation.billing is None
    assert observation.model_dump(mode="json")["autoStopTime"] == "2020-04-07T08:44:45Z"


# -- baidu-qianfan ----------------------------------------------------------------------------------

QIANFAN_UNIT_PHASES = [
    ("Running", Phase.READY),
    ("Creating", Phase.PROGRESSING),
    ("Reconfiguring", Phase.PROGRESSING),
    ("Releasing", Phase.PROGRESSING),
    ("CreateFailed", Phase.FAILED),
    ("ReconfigureFailed", Phase.DEGRADED),
    ("Released", Phase.STOPPED),
    ("SandboxUnknownState", Phase.UNKNOWN),
]


def test_every_qianfan_seed_state_is_in_the_table() -> None:
    assert set(qianfan.STATES) <= {state for state, _ in QIANFAN_UNIT_PHASES}


@pytest.mark.parametrize(("state", "expected"), QIANFAN_UNIT_PHASES)
def test_qianfan_unit_status(state: str, expected: Phase) -> None:
    observation = qianfan_of(qianfan.default_body("unit-x", state))
    assert (observation.phase, observation.providerState) == (expected, state)


@pytest.mark.parametrize(
    ("run_status", "scale_status", "service_phase", "unit_phase"),
    [
        ("Serving", None, Phase.READY, Phase.READY),
        ("Serving", "ScalingOut", Phase.PROGRESSING, Phase.PROGRESSING),
        ("Serving", "ScalingIn", Phase.PROGRESSING, Phase.PROGRESSING),
        ("Serving", "ScalingFailed", Phase.DEGRADED, Phase.DEGRADED),
        # New (待发布) waits for someone to publish it: Stopped, not Progressing forever.
        ("New", None, Phase.STOPPED, Phase.STOPPED),
        ("Deploying", None, Phase.PROGRESSING, Phase.PROGRESSING),
        ("Deactivating", None, Phase.PROGRESSING, Phase.PROGRESSING),
        ("Failed", None, Phase.FAILED, Phase.FAILED),  # its only service failed
        ("DeactivationFailed", None, Phase.DEGRADED, Phase.DEGRADED),
        ("Mystery", None, Phase.UNKNOWN, Phase.UNKNOWN),
    ],
)
def test_qianfan_service_status_on_a_running_unit(
    run_status: str, scale_status: str | None, service_phase: Phase, unit_phase: Phase
) -> None:
    body = qianfan.default_body("unit-x", "Running")
    body["result"]["serviceInfoList"][0].update(runStatus=run_status, scaleStatus=scale_status)
    observation = qianfan_of(body)
    assert observation.services[0].phase is service_phase
    assert observation.phase is unit_phase


def test_qianfan_seed_example_lands_in_the_status() -> None:
    body = qianfan.default_body("unit-x", "Running")
    # The simulator moves the seed's (long past) reservation relative to its start; the seed's own here.
    body["result"]["computeUnitInstance"].update(
        startTime="2024-12-03T06:24:03Z", expiredTime="2025-01-03T06:24:03Z"
    )
    observation = qianfan_of(body, request_id="hdr-req")
    assert observation.resources.model_dump(exclude_none=True) == {
        "computeUnits": {"total": "4", "used": "2"}
    }
    assert observation.replicas.model_dump() == {"desired": None, "ready": None}  # not documented
    [service] = observation.services
    assert (service.name, service.id, service.state) == ("sandbox-chat", "svco-sandbox01", "Serving")
    assert service.resources is not None
    assert service.resources.model_dump(exclude_none=True) == {"total": {"computeUnits": "1"}}
    assert observation.billing is not None
    assert observation.billing.model_dump(mode="json", exclude_none=True) == {
        "chargeType": "Prepaid",
        "startTime": "2024-12-03T06:24:03Z",
        "expirationTime": "2025-01-03T06:24:03Z",
        "autoRenew": True,
        "autoRenewPeriod": "4 month",
    }
    assert observation.attributes == {
        "instanceId": "unit-x",
        "region": "bj",
        "type": "gpu-1",
        "reservation": "1 month",
    }
    assert observation.requestId == "hdr-req"
    assert "sandbox-user" not in as_text(observation)  # `creator` is personal data: not kept


def test_qianfan_accepts_the_field_tables_service_list_name() -> None:
    # The seed's field table says serviceUsageList, its example serviceInfoList.
    body = qianfan.default_body("unit-x", "Running")
    body["result"]["serviceUsageList"] = body["result"].pop("serviceInfoList")
    assert [s.name for s in qianfan_of(body).services] == ["sandbox-chat"]


def test_qianfan_new_service_says_not_published() -> None:
    body = qianfan.default_body("unit-x", "Running")
    body["result"]["serviceInfoList"].append({"serviceName": "draft", "runStatus": "New"})
    observation = qianfan_of(body)
    assert observation.phase is Phase.READY  # one serving, one waiting to be published
    assert observation.services[1].message == "not published"
    assert "draft: New, not published" in (observation.message or "")


@pytest.mark.parametrize(("payment", "expected"), [("Prepaid", False), ("Postpaid", None)])
def test_qianfan_auto_renew_absent(payment: str, expected: bool | None) -> None:
    body = qianfan.default_body("unit-x", "Running")
    body["result"]["computeUnitInstance"].pop("autoRenew")
    body["result"]["computeUnitInstance"]["paymentTiming"] = payment
    observation = qianfan_of(body)
    assert observation.billing is not None
    assert observation.billing.autoRenew is expected


def test_qianfan_auto_renew_off() -> None:
    body = qianfan.default_body("unit-x", "Running")
    body["result"]["computeUnitInstance"]["autoRenew"] = False
    observation = qianfan_of(body)
    assert observation.billing is not None
    assert (observation.billing.autoRenew, observation.billing.autoRenewPeriod) == (False, None)


# -- every provider ---------------------------------------------------------------------------------

SEED_BODIES = {
    "alibaba-hologres": (hologres_of, hologres.default_body("hgpostcn-cn-x", "ResourceReady")),
    "alibaba-guardrail": (guardrail_of, guardrail.default_body("1001/2", "ok")),
    "huawei-modelarts": (modelarts_of, modelarts.default_body(f"{PROJECT}/{SERVICE}", "running")),
    "baidu-qianfan": (qianfan_of, qianfan.default_body("unit-x", "Running")),
}


@pytest.mark.parametrize("name", sorted(SEED_BODIES))
def test_no_secret_of_the_response_reaches_the_observation(name: str) -> None:
    mapper, body = SEED_BODIES[name]
    text = as_text(mapper(copy.deepcopy(body)))
    assert not [secret for secret in SECRET_VALUES if secret in text]
    assert "SECRET" not in text


@pytest.mark.parametrize("name", sorted(SEED_BODIES))
def test_an_empty_body_maps_to_unknown_without_crashing(name: str) -> None:
    mapper, _ = SEED_BODIES[name]
    empty: dict[str, Any] = {"result": {}} if name == "baidu-qianfan" else {}
    assert mapper(empty).phase is Phase.UNKNOWN


@pytest.mark.parametrize("name", sorted(SEED_BODIES))
def test_unknown_extra_fields_are_ignored(name: str) -> None:
    mapper, body = SEED_BODIES[name]
    body = copy.deepcopy(body) | {"brandNewField": {"nested": [1, 2, 3]}}
    assert mapper(body).phase is not Phase.UNKNOWN or name == "alibaba-guardrail"


@pytest.mark.parametrize(("status", "expected"), [("Running", Phase.READY), ("Failed", Phase.FAILED)])
def test_hologres_bailian_only_instance_takes_its_services_phase(status: str, expected: Phase) -> None:
    # No AI-node fields at all (no node status, no serviceCount): the services decide.
    body = {
        "requestId": "R",
        "modelServiceList": [{"modelName": "qwen", "status": status, "provider": "bailian"}],
    }
    observation = hologres_of(body)
    assert observation.phase is expected
    assert observation.providerState is None
    assert observation.replicas.model_dump() == {"desired": None, "ready": None}
