"""ModelArts service details (v1) response, as documented; every field optional, numbers bounded.

Dropped at this boundary, by not being fields: `config[].envs` and both `additional_properties`
(environment variables and DEW secret names may hold credentials), `config[].mapping_rule` and
`config[].affinity` (scheduling internals), `tenant`/`project`/`owner` (account identifiers the
resource already names), and the edge nodes' host details (IPs, OS, labels).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from cloudmodel_operator.providers.fields import (
    Amount,
    Count,
    EpochMs,
    Percent,
    TrafficCount,
    Weight,
)


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class CustomSpec(_Body):
    cpu: Amount | None = None
    memory: Amount | None = None  # MB
    gpu_p4: Amount | None = None
    ascend_a310: Amount | None = None


class CpuInfo(_Body):
    cpu: Amount | None = None
    arch: str | None = None


class MemoryInfo(_Body):
    memory: Amount | None = None
    unit: str | None = None  # "MB", "GB"


class AcceleratorInfo(_Body):
    gpu: Amount | None = None
    npu: Amount | None = None
    brand: str | None = None
    version: str | None = None
    memory: Amount | None = None
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


class Schedule(_Body):
    type: str | None = None  # only "stop" is documented
    duration: Count | None = None
    time_unit: str | None = None  # DAYS, HOURS, MINUTES


class ModelConfig(_Body):
    model_id: str | None = None
    model_name: str | None = None
    model_version: str | None = None
    status: str | None = None
    weight: Weight | None = None
    instance_count: Count | None = None
    specification: str | None = None
    custom_spec: CustomSpec | None = None
    scaling: bool | None = None
    support_debug: bool | None = None
    cluster_id: str | None = None
    pool_name: str | None = None
    specification_details: SpecificationDetails | None = None
    nodes: list[EdgeNode] | None = None
    source_type: str | None = None
    start_time: EpochMs | None = None  # batch services, epoch ms
    finished_time: EpochMs | None = None
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
    progress: Percent | None = None
    error_msg: str | None = None
    infer_type: str | None = None
    access_address: str | None = None
    bind_access_address: str | None = None
    debug_url: str | None = None
    due_time: EpochMs | None = None
    update_time: EpochMs | None = None
    transition_at: EpochMs | None = None
    publish_at: EpochMs | None = None
    operation_time: EpochMs | None = None
    invocation_times: TrafficCount | None = None
    failed_times: TrafficCount | None = None
    cluster_id: str | None = None
    pool_name: str | None = None
    is_free: bool | None = None
    is_shared: bool | None = None
    shared_count: Count | None = None
    workspace_id: str | None = None
    vpc_id: str | None = None
    subnet_network_id: str | None = None
    security_group_id: str | None = None
    load_balancer_policy: str | None = None
    priority: Annotated[int, Field(ge=1, le=3)] | None = None
    config: list[ModelConfig] | None = None
    nodes: list[EdgeNode] | None = None
    schedule: list[Schedule] | None = None
