"""AI guardrails `GetModelInstanceInfo` (seed 004): the example response, with a fake `ModelToken`.

The API has no lifecycle state; the simulator's only state is `ok`.
"""

from __future__ import annotations

from typing import Any

from cloudmodel_dev.simulator.bodies import seeds

MODEL_TOKEN = "sk-sandbox-SECRET-guardrail-modeltoken-0001"  # noqa: S105 - a fake, recognisable secret
STATES = ("ok",)
DEFAULT_STATE = "ok"


def split_id(target_id: str) -> tuple[int, int]:
    """`'1001/scene-2'` -> (1001, 2)."""
    instance, _, scene = target_id.partition("/")
    return int(instance), int(scene.removeprefix("scene-"))


def target_id(model_instance_id: str, scene_type: str) -> str:
    return f"{model_instance_id}/scene-{scene_type}"


def default_body(target: str, state: str) -> dict[str, Any]:
    if seeds.is_example("alibaba-guardrail", target):
        return seeds.example_body("alibaba-guardrail")
    instance, _ = split_id(target)
    return {
        "Code": "00000",
        "HarmfulCategoryConfigInfoList": [
            {
                "CategoryId": 1,
                "InputOutputType": 0,
                "CategoryType": 0,
                "CategoryLabel": "伦理道德",
                "SecurityLevel": 1,
            }
        ],
        "HttpStatusCode": 200,
        "Message": "",
        "Success": True,
        "GmtModified": 1634122349000,
        "PromptAttackInfoList": [{"CategoryId": 1, "CategoryLabel": "角色扮演", "SecurityLevel": 1}],
        "ModelInstanceId": instance,
        "EasServiceName": "rai_content_detection_model",
        "EasServiceId": "eas-m-12345678",
        "ModelSource": 1,
        "IsSupportText": True,
        "IsSupportImage": True,
        "ModelUrl": f"http://{instance}.cn-shanghai.pai-eas.aliyuncs.com/api/predict/rai_content_detection_model",
        "ModelVpcUrl": f"http://{instance}.vpc.cn-shanghai.pai-eas.aliyuncs.com/api/predict/rai_content_detection_model",
        "ModelToken": MODEL_TOKEN,
        "ModelCallName": "demo",
        "Description": "opencompass-vllm07-acc",
        "ModelCategoryId": 1,
    }


UNKNOWN_STATE: Any = 7  # ModelSource is documented as 1 (PAI) or 2 (other)


def set_state(body: dict[str, Any], value: Any) -> None:
    """No state field exists; an unknown-state fault puts an out-of-enum `ModelSource` instead."""
    body["ModelSource"] = value
