"""ModelArts service details (v1) response, as documented; every field optional.

Dropped at this boundary, by not being fields: `config[].envs` and both `additional_properties`
(environment variables and DEW secret names may hold credentials), `config[].mapping_rule` and
`config[].affinity` (scheduling internals), `tenant`/`project`/`owner` (account identifiers the
resource already names), and the edge nodes' host details (IPs, OS, labels).
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


class CpuInfo(_Body):
    cpu: float | None = None
    arch: str | None = None


class MemoryInfo(_Body):
    memory: float | None = None
    unit: str | None = None  # "MB", "GB"


class AcceleratorInfo(_Body):
    gpu: float | None = None
    npu: float | None = None
    brand: str | None = None
    version: str | None = None
    memory: float | None = None
    unit: str | None = None


class SpecificationDetails(_Body):
    display_en: str | None = None
    category: str | None = None  # CPU, GPU, NPU
    cpu_info: CpuInfo | None = None
    memory_info: MemoryInfo | None = None
    gpu_info: AcceleratorInfo | None = None
    npu_info: AcceleratorInfo | None = None


class EdgeNode(_Body):
    id: str | None = None
    name: str | None = None
    instance_status: str | None = None
    state: str | None = None
    message: str | None = None
    predict_url: str | None = None


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
    specification_details: SpecificationDetails | None = None
    nodes: list[EdgeNode] | None = None
    source_type: str | None = None
    start_time: int | None = None  # batch services, epoch ms
    finished_time: int | None = None
    src_path: str | None = None
    src_type: str | None = None
    dest_path: str | None = None
    req_uri: str | None = None
    mapping_type: str | None = None


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
    vpc_id: str | None = None
    subnet_network_id: str | None = None
    security_group_id: str | None = None
    load_balancer_policy: str | None = None
    priority: int | None = None
    config: list[ModelConfig] | None = None
    nodes: list[EdgeNode] | None = None
    schedule: list[dict[str, Any]] | None = None
