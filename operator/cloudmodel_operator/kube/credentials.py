"""Credentials Secrets: read with `get` only, once per Secret, cached, and given a health of their own.

Only the Secrets that resources name are read, never listed or watched by default. A Secret is
read when a resource first needs it and again when its copy is older than `ttl`; many resources
naming one Secret share one read. A Secret that is missing, incomplete or rejected by the
provider is re-read every `recheck` seconds in the background, and when it changed the resources
that use it are woken at once, so fixing a Secret takes effect within `recheck` seconds without
any watch on Secrets. Where the install grants a metadata-only watch, `changed()` is called from
it and a fix is picked up at once.

Health: every provider call reports back whether the credentials worked, so each Secret has one
state (valid, or failing with an error class since a time, and an expiry when the Secret states
one) that metrics and alerts use once per Secret instead of once per resource.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cloudmodel_operator.kube import paths
from cloudmodel_operator.kube.client import KubeClient, KubeError, NotFound
from cloudmodel_operator.providers.base import Credentials, CredentialsError
from cloudmodel_operator.redact import register_secret

logger = logging.getLogger(__name__)

SecretKey = tuple[str, str]  # (namespace, name)

# Where a Secret may say when temporary credentials (STS, security tokens) stop working.
EXPIRY_KEYS = ("expiration", "expiresAt")
EXPIRY_ANNOTATION = "cloudmodel.io/credentials-expire-at"


@dataclass
class SecretHealth:
    valid: bool | None = None  # None: not used by any provider call yet
    error_class: str | None = None  # "missing", or the provider's error class (e.g. "auth")
    message: str | None = None
    since: datetime | None = None
    expires_at: datetime | None = None


@dataclass
class _Entry:
    credentials: Credentials | None = None
    error: CredentialsError | None = None
    version: str = ""
    fetched_at: float = float("-inf")
    last_used: float = 0.0
    health: SecretHealth = field(default_factory=SecretHealth)
    inflight: asyncio.Future[None] | None = None


HealthListener = Callable[[SecretKey, SecretHealth], None]


class CredentialStore:
    def __init__(
        self,
        client: KubeClient,
        *,
        ttl: float = 300.0,
        recheck: float = 30.0,
        on_changed: Callable[[str, str], None] = lambda namespace, name: None,
        on_health: HealthListener = lambda key, health: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.ttl = ttl
        self.recheck = recheck
        self.on_changed = on_changed
        self.on_health = on_health
        self.clock = clock
        self._entries: dict[SecretKey, _Entry] = {}
        self.reads = 0

    def health(self, namespace: str, name: str) -> SecretHealth | None:
        entry = self._entries.get((namespace, name))
        return entry.health if entry else None

    async def get(self, namespace: str, name: str) -> Credentials:
        """The Secret's keys as credentials; `CredentialsError` says precisely what is wrong."""
        key = (namespace, name)
        entry = self._entries.setdefault(key, _Entry())
        now = self.clock()
        entry.last_used = now
        age = now - entry.fetched_at
        fresh = age < (self.ttl if entry.error is None else self.recheck)
        if not fresh:
            await self._refresh(key, entry)
        if entry.error is not None:
            raise entry.error
        assert entry.credentials is not None
        return entry.credentials

    async def _refresh(self, key: SecretKey, entry: _Entry) -> None:
        if entry.inflight is not None:
            await asyncio.shield(entry.inflight)
            return
        entry.inflight = asyncio.get_running_loop().create_future()
        try:
            await self._read(key, entry)
        except KubeError:
            # The API server is unreachable: keep serving the copy we have, if any.
            if entry.credentials is None and entry.error is None:
                raise
            logger.debug("cannot re-read Secret %s/%s; using the cached copy", *key)
        finally:
            future, entry.inflight = entry.inflight, None
            future.set_result(None)

    async def _read(self, key: SecretKey, entry: _Entry) -> None:
        namespace, name = key
        self.reads += 1
        previous_version = entry.version
        known_before = bool(previous_version) or entry.error is not None
        try:
            secret = await self.client.get(paths.secret(namespace, name))
        except NotFound:
            self._set(key, entry, None, CredentialsError(f"Secret {namespace}/{name} not found"), "")
            return
        except KubeError as exc:
            if exc.status == 403:
                self._set(
                    key,
                    entry,
                    None,
                    CredentialsError(f"the operator may not read Secret {namespace}/{name}"),
                    "",
                )
                return
            raise
        metadata = secret.get("metadata") or {}
        version = str(metadata.get("resourceVersion", ""))
        credentials, error = _decode(namespace, name, secret)
        self._set(key, entry, credentials, error, version)
        entry.health.expires_at = _expiry(secret, credentials)
        if known_before and version != previous_version:
            logger.info("Secret %s/%s changed; waking the resources that use it", namespace, name)
            self.on_changed(namespace, name)

    def _set(
        self,
        key: SecretKey,
        entry: _Entry,
        credentials: Credentials | None,
        error: CredentialsError | None,
        version: str,
    ) -> None:
        entry.credentials, entry.error, entry.version = credentials, error, version
        entry.fetched_at = self.clock()
        if credentials is not None:
            for value in credentials.secret_values():
                register_secret(value)
        if error is not None:
            self._mark(key, entry, False, "missing", str(error))

    def report(
        self, namespace: str, name: str, *, ok: bool, error_class: str | None = None, message: str = ""
    ) -> None:
        """What the last provider call with these credentials said about them."""
        entry = self._entries.get((namespace, name))
        if entry is None:
            return
        if ok:
            self._mark((namespace, name), entry, True, None, None)
        elif error_class is not None:
            self._mark((namespace, name), entry, False, error_class, message)

    def _mark(
        self, key: SecretKey, entry: _Entry, valid: bool, error_class: str | None, message: str | None
    ) -> None:
        health = entry.health
        if health.valid == valid and health.error_class == error_class:
            return
        health.valid, health.error_class, health.message = valid, error_class, message
        health.since = datetime.now(UTC)
        self.on_health(key, health)

    def changed(self, namespace: str, name: str) -> None:
        """The Secret changed (a metadata watch saw it): drop the copy and wake its users."""
        entry = self._entries.get((namespace, name))
        if entry is not None:
            entry.fetched_at = float("-inf")
        self.on_changed(namespace, name)

    def forget_unused(self, in_use: set[SecretKey]) -> None:
        """Drop Secrets no resource names any more (their health series go with them)."""
        for key in [k for k in self._entries if k not in in_use]:
            del self._entries[key]
            self.on_health(key, SecretHealth(valid=None))

    async def run_rechecks(self) -> None:
        """Re-read failing Secrets every `recheck` seconds so a fix wakes their users."""
        while True:
            await asyncio.sleep(self.recheck / 2)  # a timer: there is no event for "time passed"
            now = self.clock()
            for key, entry in list(self._entries.items()):
                failing = entry.error is not None or entry.health.valid is False
                if failing and now - entry.fetched_at >= self.recheck and entry.inflight is None:
                    try:
                        await self._refresh(key, entry)
                    except KubeError as exc:
                        logger.debug("recheck of Secret %s/%s failed: %s", *key, exc)


def _decode(
    namespace: str, name: str, secret: dict[str, object]
) -> tuple[Credentials | None, CredentialsError | None]:
    values: dict[str, str] = {}
    data = secret.get("data") or {}
    if not isinstance(data, dict):
        data = {}
    for key, encoded in data.items():
        try:
            values[str(key)] = base64.b64decode(str(encoded)).decode("utf-8").strip()
        except (binascii.Error, UnicodeDecodeError):
            return None, CredentialsError(f"Secret {namespace}/{name} key '{key}' is not UTF-8 text")
    if not values:
        return None, CredentialsError(f"Secret {namespace}/{name} has no data")
    return Credentials(values), None


def _expiry(secret: dict[str, object], credentials: Credentials | None) -> datetime | None:
    metadata = secret.get("metadata") or {}
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    raw = (annotations or {}).get(EXPIRY_ANNOTATION) if isinstance(annotations, dict) else None
    if raw is None and credentials is not None:
        raw = next((credentials.get(k) for k in EXPIRY_KEYS if credentials.get(k)), None)
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class SecretMetadataHandler:
    """Informer handler for a metadata-only watch of Secrets: wakes the users of a Secret that changed.

    Only versions are kept, and only of Secrets some resource names; the data never arrives.
    """

    def __init__(self, store: CredentialStore, referenced: Callable[[str, str], bool]) -> None:
        self.store = store
        self.referenced = referenced
        self._versions: dict[SecretKey, str] = {}
        self._listing: set[SecretKey] | None = None
        self._synced = False  # the first listing only learns versions: a restart wakes nobody

    def relist_begin(self, scope: str | None) -> None:
        self._listing = set()

    def upsert(self, obj: dict[str, object]) -> None:
        metadata = obj.get("metadata")
        if not isinstance(metadata, dict):
            return
        key = (str(metadata.get("namespace") or ""), str(metadata.get("name") or ""))
        if self._listing is not None:
            self._listing.add(key)
        if not self.referenced(*key):
            self._versions.pop(key, None)
            return
        version = str(metadata.get("resourceVersion") or "")
        previous = self._versions.get(key)
        self._versions[key] = version
        if previous != version and (previous is not None or self._synced):
            self.store.changed(*key)

    def delete(self, obj: dict[str, object]) -> None:
        metadata = obj.get("metadata")
        if not isinstance(metadata, dict):
            return
        key = (str(metadata.get("namespace") or ""), str(metadata.get("name") or ""))
        if self._versions.pop(key, None) is not None or self.referenced(*key):
            self.store.changed(*key)

    def relist_end(self, scope: str | None) -> None:
        self._synced = True
        listed, self._listing = self._listing or set(), None
        for key in [k for k in self._versions if (scope is None or k[0] == scope) and k not in listed]:
            del self._versions[key]
            self.store.changed(*key)
