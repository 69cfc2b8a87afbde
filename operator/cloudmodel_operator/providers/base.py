"""The one small interface every provider implements, and the one error type they raise.

A provider turns (target, credentials) into an `Observation` with a single call, or raises
`ProviderError` with a class that tells the generic reconciler what to do next. Rate limiting,
retries, endpoint policy, caching and everything Kubernetes-side live outside the providers.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar

import httpx

from cloudmodel_operator.api.observation import Observation


class ErrorClass(StrEnum):
    """What kind of failure a provider call ended in; drives retry and the condition reason."""

    AUTH = "auth"  # bad/expired credentials or signature, permission denied: never retried quickly
    NOT_FOUND = "not-found"  # the target does not exist: terminal until the spec changes
    THROTTLED = "throttled"  # rate limited by the provider: retried after Retry-After
    TRANSIENT = "transient"  # network errors, timeouts, 5xx: retried with backoff
    INVALID_RESPONSE = "invalid-response"  # malformed/truncated body: retried, it may be a glitch
    PERMANENT = "permanent"  # any other 4xx: the request itself is wrong; not retried


RETRYABLE_CLASSES = frozenset({ErrorClass.THROTTLED, ErrorClass.TRANSIENT, ErrorClass.INVALID_RESPONSE})


class ProviderError(Exception):
    """A failed provider call, parsed from the provider's own error shape."""

    def __init__(
        self,
        error_class: ErrorClass,
        message: str,
        *,
        code: str | None = None,
        http_status: int | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.error_class = error_class
        self.message = message
        self.code = code
        self.http_status = http_status
        self.request_id = request_id
        self.retry_after = retry_after  # seconds, when the provider said how long to wait

    @property
    def retryable(self) -> bool:
        return self.error_class in RETRYABLE_CLASSES

    def __str__(self) -> str:
        parts = [self.code or self.error_class.value]
        if self.http_status is not None:
            parts.append(f"HTTP {self.http_status}")
        text = f"{' '.join(parts)}: {self.message}"
        if self.request_id:
            text += f" (request {self.request_id})"
        return text


class CredentialsError(Exception):
    """The credentials Secret is missing or lacks the keys this provider needs."""


@dataclass(frozen=True)
class Target:
    """Which provider object to observe; built from a CloudModelService spec."""

    provider: str
    region: str
    instance_id: str | None = None  # Hologres instance, Qianfan compute unit
    project_id: str | None = None  # ModelArts project
    service_id: str | None = None  # ModelArts service
    model_instance_id: str | None = None  # guardrail model instance
    scene_type: int | None = None  # guardrail scene type (0 input, 1 output, 2 both)
    endpoint: str | None = None  # base URL override

    @property
    def display(self) -> str:
        """A short human name for the target, shown in `kubectl get`."""
        if self.project_id and self.service_id:
            return f"{self.project_id}/{self.service_id}"
        if self.model_instance_id is not None:
            return f"{self.model_instance_id}/scene-{self.scene_type}"
        return self.instance_id or self.service_id or ""


@dataclass(frozen=True)
class Credentials:
    """Credential values read from a Secret. `repr` never shows the values."""

    values: Mapping[str, str] = field(repr=False)

    # Keys that name an identity rather than hold a secret; everything else is masked in output.
    IDENTITY_KEYS: ClassVar[frozenset[str]] = frozenset(
        {"accessKeyId", "accessKey", "domainName", "username"}
    )

    def secret_values(self) -> list[str]:
        return [value for key, value in self.values.items() if key not in self.IDENTITY_KEYS and value]

    def get(self, key: str) -> str | None:
        value = self.values.get(key)
        return value if value else None

    def require(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise CredentialsError(f"credentials have no '{key}' key")
        return value

    def account(self) -> str:
        """A non-secret identity of these credentials, used to key rate limits and caches."""
        for key in ("accessKeyId", "accessKey", "username"):
            value = self.get(key)
            if value:
                return value
        return "token"


class Provider(abc.ABC):
    """One cloud API. Implementations live in `providers/<name>/` and hold nothing generic."""

    name: ClassVar[str]
    credential_keys: ClassVar[tuple[str, ...]]  # documented Secret keys, for error messages

    @abc.abstractmethod
    def default_base_url(self, region: str) -> str:
        """The provider's own endpoint for a region, as its SDK builds it."""

    @abc.abstractmethod
    def validate_credentials(self, credentials: Credentials) -> None:
        """Raise `CredentialsError` naming the missing key when the Secret is not usable."""

    @abc.abstractmethod
    async def observe(
        self, client: httpx.AsyncClient, base_url: str, target: Target, credentials: Credentials
    ) -> Observation:
        """Fetch the target once and map it; raise `ProviderError` on any failure."""
