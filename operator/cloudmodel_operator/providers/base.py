"""The one small interface every provider implements, and the one error type they raise.

A provider turns (target, credentials) into an `Observation` with a single call, or raises
`ProviderError` with a class that tells the generic reconciler what to do next. Rate limiting,
retries, endpoint policy, caching and everything Kubernetes-side live outside the providers.
"""

from __future__ import annotations

import abc
import logging
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import ClassVar

import httpx

from cloudmodel_operator.api.observation import Observation

logger = logging.getLogger(__name__)


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


class EndpointNotAllowed(Exception):
    """The base URL a resource asks for is not one the operator may send credentials to."""


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

    # Names that are short, common words; masking them would garble text, and they prove nothing.
    PLAIN_NAMES: ClassVar[frozenset[str]] = frozenset({"domainName", "username"})
    MIN_MASKED_LENGTH: ClassVar[int] = 4

    def secret_values(self) -> list[str]:
        return [value for key, value in self.values.items() if key not in self.IDENTITY_KEYS and value]

    def masked_values(self) -> list[str]:
        """Values that must not appear in anything built from a provider's answer: every secret
        and the access key IDs (an answer that echoes the request's credentials echoes both)."""
        return [
            value
            for key, value in self.values.items()
            if key not in self.PLAIN_NAMES and len(value) >= self.MIN_MASKED_LENGTH
        ]

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
    """One cloud API. Implementations live in `providers/<name>/` and hold nothing generic.

    Each implements `fetch` (one call and its mapping) and names the hosts it may be called on:
    `official_endpoints` (region -> base URL) or `global_endpoint`, exactly as the provider
    publishes them. The engine calls `observe`.
    """

    name: ClassVar[str]
    credential_keys: ClassVar[tuple[str, ...]]  # documented Secret keys, for error messages
    official_endpoints: ClassVar[Mapping[str, str]] = {}
    global_endpoint: ClassVar[str | None] = None  # one host for every region

    def default_base_url(self, region: str) -> str:
        """The provider's own base URL for a region; `EndpointNotAllowed` when it publishes none."""
        if self.global_endpoint is not None:
            return self.global_endpoint
        url = self.official_endpoints.get(region)
        if url is None:
            raise EndpointNotAllowed(
                f"{self.name} publishes no API endpoint for region {region!r} "
                f"(known: {', '.join(sorted(self.official_endpoints)) or 'none'}); set spec.endpoint to a "
                "base URL the operator was started to allow with --allow-endpoint"
            )
        return url

    def official_base_urls(self) -> frozenset[str]:
        """Every base URL the provider publishes for its API: the only hosts credentials may go to."""
        urls = set(self.official_endpoints.values())
        if self.global_endpoint is not None:
            urls.add(self.global_endpoint)
        return frozenset(urls)

    def is_official(self, base_url: str) -> bool:
        return base_url.rstrip("/") in self.official_base_urls()

    @abc.abstractmethod
    def validate_credentials(self, credentials: Credentials) -> None:
        """Raise `CredentialsError` naming the missing key when the Secret is not usable."""

    async def fetch(
        self, client: httpx.AsyncClient, base_url: str, target: Target, credentials: Credentials
    ) -> Observation:
        """One call and its mapping, as each provider implements it; may raise anything."""
        raise NotImplementedError(f"{type(self).__name__} implements neither fetch nor observe")

    async def observe(
        self, client: httpx.AsyncClient, base_url: str, target: Target, credentials: Credentials
    ) -> Observation:
        """Fetch the target once: a scrubbed, capped `Observation`, or a `ProviderError`; nothing else.

        This is the one place where the provider boundary is closed. The engine's retries and
        condition reasons understand only `ProviderError`; anything else escaping from parsing,
        validation or mapping (a RecursionError from a hostile body, a bug in a mapping) would
        otherwise end the pass without a status saying what happened. Such an exception becomes
        `InvalidResponse` naming where it happened, never with its text (it may quote the answer).
        Cancellation (the engine's deadline) is not an exception here and passes through.
        """
        # Imported here: scrub depends on the observation model and redact, not the other way round.
        from cloudmodel_operator.providers.scrub import scrub_error, scrub_observation

        masked = credentials.masked_values()
        try:
            return scrub_observation(await self.fetch(client, base_url, target, credentials), masked)
        except ProviderError as error:
            scrub_error(error, masked)
            raise
        except Exception as exc:
            where = _where(exc)
            logger.warning("%s %s: the answer could not be mapped (%s)", self.name, target.display, where)
            raise ProviderError(
                ErrorClass.INVALID_RESPONSE,
                f"the provider's answer could not be turned into a status ({where})",
            ) from None


def _where(exc: BaseException) -> str:
    """The exception type and the innermost frame of our code, without the exception's text."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "cloudmodel_operator" in f.filename] or frames
    if not ours:
        return type(exc).__name__
    return f"{type(exc).__name__} at {Path(ours[-1].filename).name}:{ours[-1].lineno}"
