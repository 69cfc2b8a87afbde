"""ModelArts service details v1 (seed 002): the example response, with fake secrets in `envs`.

A few fields follow the state the way the real service fills them: `progress` while deploying,
`error_msg` when failed, `access_address` only once running.
"""

from __future__ import annotations

from typing import Any

from cloudmodel_dev.simulator.bodies import seeds

ENV_SECRET = "sk-sandbox-SECRET-modelarts-env-0001"  # noqa: S105 - a fake, recognisable secret
DEW_SECRET = "sandbox-SECRET-modelarts-dew-0001"  # noqa: S105 - a fake, recognisable secret
STATES = (
    "running",
    "deploying",
    "concerning",
    "failed",
    "stopped",
    "finished",
    "stopping",
    "deleting",
    "pending",
    "waiting",
)
DEFAULT_STATE = "running"
_CONFIG_STATUS = {"running": "running", "concerning": "concerning", "failed": "failed", "stopped": "stopped"}


def split_id(target_id: str) -> tuple[str, str]:
    project_id, _, service_id = target_id.partition("/")
    return project_id, service_id


def default_body(target_id: str, state: str) -> dict[str, Any]:
    if seeds.is_example("huawei-modelarts", target_id):
        example = seeds.example_body("huawei-modelarts")
        if state != seeds.EXAMPLE_STATES["huawei-modelarts"]:
            set_state(example, state)
        return example
    project_id, service_id = split_id(target_id)
    body: dict[str, Any] = {
        "service_id": service_id,
        "service_name": "service-demo",
        "tenant": project_id,
        "project": project_id,
        "owner": "sandbox-owner",
        "publish_at": 1585809231902,
        "update_time": 1585809358259,
        "infer_type": "real-time",
        "status": state,
        "progress": 100,
        "access_address": f"https://sandbox.apig.cn-north-4.huaweicloudapis.com/v1/infers/{service_id}",
        "cluster_id": "088458d9-5755-4110-97d8-1d21065ea10b",
        "workspace_id": "0",
        "additional_properties": {},
        "is_shared": False,
        "invocation_times": 1200,
        "failed_times": 3,
        "shared_count": 0,
        "operation_time": 1586249085447,
        "config": [
            {
                "model_id": "044ebf3d-8bf4-48df-bf40-bad0e664c1e2",
                "model_name": "jar-model",
                "model_version": "1.0.1",
                "specification": "custom",
                "custom_spec": {"cpu": 2.0, "memory": 8192, "gpu_p4": 1.0},
                "status": _CONFIG_STATUS.get(state, "notReady"),
                "weight": 100,
                "instance_count": 1,
                "scaling": False,
                "envs": {"MODEL_API_TOKEN": ENV_SECRET},
                "additional_properties": {"dew_secret": {"secret_name": DEW_SECRET}},
                "support_debug": False,
            }
        ],
        "transition_at": 1585809231902,
        "is_free": False,
    }
    _follow_state(body, state)
    return body


def _follow_state(body: dict[str, Any], state: str) -> None:
    if state == "deploying":
        body["progress"] = 40
    if state != "running" and state != "concerning":
        body.pop("access_address", None)
    if state == "failed":
        body.setdefault("error_msg", "Deploy service failed: image pull failed for jar-model 1.0.1.")


UNKNOWN_STATE: Any = "sandbox_unknown_state"


def set_state(body: dict[str, Any], state: Any) -> None:
    body["status"] = state
