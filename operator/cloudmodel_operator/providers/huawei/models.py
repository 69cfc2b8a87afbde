"""ModelArts service details (v1) response, as documented; every field optional.

`config[].envs` and `additional_properties` (which may hold DEW secrets) are deliberately not
fields: they are dropped at this boundary.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class CustomSpec(_Body):
    cpu: float | None = None
    memory: float | None = None  # MB
    gpu_p4: float | None = None
    ascend_a310: float | None = None


class ModelConfig(_Body):
    model_id: str | None = None
    model_name: str | None = None
    model_version: str | None = None
    status: str | None = None
    weight: int | None = None
    instance_count: int | None = None
    specification: str | None = None
    custom_spec: CustomSpec | None = None
    scaling: bool | None = None
    support_debug: bool | None = None
    cluster_id: str | None = None
    pool_name: str | None = None


class EdgeNode(_Body):
    id: str | None = None
    name: str | None = None
    instance_status: str | None = None
    state: str | None = None
    message: str | None = None
    predict_url: str | None = None


class ServiceDetails(_Body):
    service_id: str | None = None
    service_name: str | None = None
    description: str | None = None
    status: str | None = None
    progress: int | None = None
    error_msg: str | None = None
    infer_type: str | None = None
    access_address: str | None = None
    bind_access_address: str | None = None
    debug_url: str | None = None
    due_time: int | None = None
    update_time: int | None = None
    transition_at: int | None = None
    publish_at: int | None = None
    operation_time: int | None = None
    invocation_times: int | None = None
    failed_times: int | None = None
    cluster_id: str | None = None
    pool_name: str | None = None
    is_free: bool | None = None
    is_shared: bool | None = None
    shared_count: int | None = None
    workspace_id: str | None = None
    config: list[ModelConfig] | None = None
    nodes: list[EdgeNode] | None = None
    schedule: list[dict[str, Any]] | None = None
