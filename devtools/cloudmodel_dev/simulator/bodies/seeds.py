"""The seed documents' example responses, served byte for byte for the examples' own ids.

`seed_examples/*.json` are cut verbatim out of the seed documents (tests/seeds checks that they
still are). A target with an example's id answers exactly those bytes while nothing overrides
them; a state change or a response override starts from the parsed example instead.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

# provider -> the example's target id as the simulator names targets
EXAMPLE_IDS = {
    "alibaba-hologres": "hgpostcn-cn-7mz2vmuxxxx",  # the request example's instanceId
    "alibaba-guardrail": "123/scene-2",  # the request example: ModelInstanceId 123, SceneType 2
    "baidu-qianfan": "unit-xxx",
}
# The ModelArts example names its service but no project: any project with that service.
MODELARTS_EXAMPLE_SERVICE = "f76f20ba-78f5-44e8-893a-37c8c600c02f"
# The state each example is in (the guardrail API has none: "ok").
EXAMPLE_STATES = {
    "alibaba-hologres": "ResourceReady",
    "alibaba-guardrail": "ok",
    "huawei-modelarts": "running",
    "baidu-qianfan": "Running",
}


def is_example(provider: str, target_id: str) -> bool:
    if provider == "huawei-modelarts":
        return target_id.partition("/")[2] == MODELARTS_EXAMPLE_SERVICE
    return EXAMPLE_IDS.get(provider) == target_id


@cache
def example_bytes(provider: str) -> bytes:
    """The example response exactly as the seed document prints it."""
    return (
        resources.files("cloudmodel_dev.simulator.bodies")
        .joinpath(f"seed_examples/{provider}.json")
        .read_bytes()
    )


def example_body(provider: str) -> dict[str, Any]:
    """The example response, parsed (a fresh copy each call)."""
    document: dict[str, Any] = json.loads(example_bytes(provider))
    return document
