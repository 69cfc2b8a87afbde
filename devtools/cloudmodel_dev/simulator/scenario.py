"""The scenario file: accounts the simulator accepts and the targets it serves.

Validated with pydantic (unknown keys are errors, so a typo fails loudly) and reported as one
`ScenarioError` whose message lists every problem with its location in the file.
"""

from __future__ import annotations

import re
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from cloudmodel_operator.api.spec import ProviderName, parse_duration

PROVIDERS: tuple[ProviderName, ...] = (
    "alibaba-hologres",
    "alibaba-guardrail",
    "huawei-modelarts",
    "baidu-qianfan",
)

FaultKind = Literal[
    "latency",
    "error",
    "throttle",
    "timeout",
    "disconnect",
    "bad-json",
    "truncated",
    "not-found",
    "unknown-state",
    "drip",
    "huge-body",
    "endless",
    "gzip-bomb",
    "echo-credentials",
    "bad-numbers",
    "deep-nesting",
]
BadNumbers = Literal["nan", "infinity", "negative", "huge"]
MiB = 1024 * 1024

_MODELARTS_ID = re.compile(r"[^/\s]+/[^/\s]+")
_GUARDRAIL_ID = re.compile(r"(\d+)/scene-([012])")


class ScenarioError(ValueError):
    """The scenario cannot be used; the message says where and why."""


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 5m or a number of seconds")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return timedelta(seconds=value)
    if isinstance(value, str):
        return parse_duration(value.strip())
    raise ValueError("expected a duration such as 30s, 5m or a number of seconds")


Duration = Annotated[timedelta, BeforeValidator(_duration)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class AlibabaAccount(_Strict):
    accessKeyId: str = Field(min_length=1)
    accessKeySecret: str = Field(min_length=1, repr=False)
    securityToken: str | None = Field(default=None, repr=False)  # STS: requests must carry it


class HuaweiAccount(_Strict):
    accessKey: str = Field(min_length=1)
    secretKey: str = Field(min_length=1, repr=False)
    securityToken: str | None = Field(default=None, repr=False)  # temporary AK/SK


class HuaweiUser(_Strict):
    domainName: str = Field(min_length=1)
    username: str = Field(min_length=1)
    password: str = Field(min_length=1, repr=False)


class BaiduAccount(_Strict):
    accessKey: str = Field(min_length=1)
    secretKey: str = Field(min_length=1, repr=False)


class Accounts(_Strict):
    alibaba: list[AlibabaAccount] = Field(default_factory=list)
    huawei: list[HuaweiAccount] = Field(default_factory=list)
    huaweiUsers: list[HuaweiUser] = Field(default_factory=list)
    baidu: list[BaiduAccount] = Field(default_factory=list)


class Fault(_Strict):
    """One scripted misbehaviour, served `count` times (-1: forever) before the next one."""

    kind: FaultKind
    count: int = Field(default=1, ge=-1)
    seconds: float | None = Field(default=None, ge=0)  # latency / timeout
    status: int | None = Field(default=None, ge=100, le=599)  # error / throttle override
    code: str | None = None  # error / throttle override
    message: str | None = None  # error override
    retryAfter: float | None = Field(default=None, ge=0)  # throttle, in seconds
    state: str | None = None  # unknown-state: the value to serve
    size: int | None = Field(default=None, ge=0)  # huge-body / endless / gzip-bomb: body bytes (decoded)
    numbers: BadNumbers | None = None  # bad-numbers: what every number in the body becomes
    depth: int | None = Field(default=None, ge=1, le=10_000_000)  # deep-nesting: levels of arrays

    @model_validator(mode="after")
    def _check(self) -> Fault:
        if self.count == 0:
            raise ValueError("count must be a positive number of requests, or -1 for forever")
        return self

    @property
    def delay(self) -> float:
        """latency/timeout: the wait; drip: the wait between two bytes."""
        if self.seconds is not None:
            return self.seconds
        return {"timeout": 30.0, "drip": 2.0}.get(self.kind, 1.0)

    @property
    def body_size(self) -> int | None:
        """huge-body: 50 MiB; gzip-bomb: 512 MiB decoded (about 0.5 MiB sent); endless: no end
        unless `size` says (it is chunked either way)."""
        if self.size is not None:
            return self.size
        return {"huge-body": 50 * MiB, "gzip-bomb": 512 * MiB}.get(self.kind)


class TimelineStep(_Strict):
    after: Duration
    state: str | None = None
    response: dict[str, Any] | None = None


class TargetSpec(_Strict):
    provider: ProviderName
    id: str = Field(min_length=1)
    state: str | None = None
    response: dict[str, Any] = Field(default_factory=dict)
    timeline: list[TimelineStep] = Field(default_factory=list)
    faults: list[Fault] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_id(self) -> TargetSpec:
        check_target_id(self.provider, self.id)
        if self.provider == "alibaba-guardrail":
            for state in [self.state, *(step.state for step in self.timeline)]:
                if state not in (None, "ok"):
                    raise ValueError("alibaba-guardrail has no lifecycle state; the only state is 'ok'")
        steps = [step.after for step in self.timeline]
        if steps != sorted(steps):
            raise ValueError("timeline steps must be in increasing 'after' order")
        return self


class Scenario(_Strict):
    accounts: Accounts = Field(default_factory=Accounts)
    targets: list[TargetSpec] = Field(default_factory=list)
    verifySignatures: bool = True  # false: accept any request (curl experiments only)
    tokenTtl: Duration = timedelta(hours=24)  # lifetime of the IAM tokens it issues

    @model_validator(mode="after")
    def _unique_targets(self) -> Scenario:
        seen: set[tuple[str, str]] = set()
        for target in self.targets:
            key = (target.provider, target.id)
            if key in seen:
                raise ValueError(f"target {target.provider} {target.id!r} is defined twice")
            seen.add(key)
        return self


def check_target_id(provider: str, target_id: str) -> None:
    """Raise ValueError when `target_id` does not have the shape the provider's routes produce."""
    if provider == "huawei-modelarts" and not _MODELARTS_ID.fullmatch(target_id):
        raise ValueError(f"huawei-modelarts id must be 'PROJECT_ID/SERVICE_ID', got {target_id!r}")
    if provider == "alibaba-guardrail" and not _GUARDRAIL_ID.fullmatch(target_id):
        raise ValueError(
            f"alibaba-guardrail id must be 'MODEL_INSTANCE_ID/scene-N' (N 0-2), got {target_id!r}"
        )
    if provider in ("alibaba-hologres", "baidu-qianfan") and "/" in target_id:
        raise ValueError(f"{provider} id is a single instance id without '/', got {target_id!r}")


def format_validation_error(exc: ValidationError, source: str) -> str:
    lines = [f"{source}: {exc.error_count()} problem(s)"]
    for error in exc.errors():
        location = ""
        for part in error["loc"]:
            location += f"[{part}]" if isinstance(part, int) else (f".{part}" if location else str(part))
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"  {location or '(top level)'}: {message}")
    return "\n".join(lines)


def parse_scenario(data: Any, source: str = "scenario") -> Scenario:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: the top level must be a mapping with 'accounts' and 'targets'")
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, source)) from None


def parse_fault(data: Any) -> Fault:
    try:
        return Fault.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, "fault")) from None


def load_scenario(path: str | Path | None = None) -> Scenario:
    """Read a scenario YAML file; None means the built-in sandbox scenario."""
    if path is None:
        text = (
            resources.files("cloudmodel_dev.simulator")
            .joinpath("scenarios/sandbox.yaml")
            .read_text(encoding="utf-8")
        )
        source = "built-in sandbox scenario"
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ScenarioError(f"cannot read scenario {path}: {exc.strerror or exc}") from None
        source = str(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{source}: not valid YAML: {exc}") from None
    return parse_scenario(data, source)
