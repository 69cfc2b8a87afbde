"""What the engine remembers per resource: a small record, not the object.

A record holds the resource's identity and spec, a digest of the status the watch last showed,
and the status the operator wants there, compressed (about 1 KiB). The latter is the base the
next pass builds on; it is what the operator last wrote, or, for a resource it does not own
(a standby, or another replica's shard), what the watch last showed, so a takeover continues
from the owner's last word.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from cloudmodel_operator.api.spec import CloudModelServiceSpec
from cloudmodel_operator.engine.status_builder import comparable

RECONCILE_ANNOTATION = "cloudmodel.io/reconcile-requested-at"

Key = tuple[str, str]  # (namespace, name)


def digest(status: dict[str, Any]) -> bytes:
    """Digest of what a status says, ignoring fields that change on every fetch."""
    text = json.dumps(comparable(status), sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def pack(status: dict[str, Any]) -> bytes:
    return zlib.compress(json.dumps(status, separators=(",", ":")).encode(), 1)


def unpack(blob: bytes | None) -> dict[str, Any]:
    if not blob:
        return {}
    value = json.loads(zlib.decompress(blob))
    return value if isinstance(value, dict) else {}


def last_sync_timestamp(status: dict[str, Any]) -> float | None:
    raw = status.get("lastSyncTime")
    if not isinstance(raw, str) or not raw:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def shard_of(namespace: str, name: str, shards: int) -> int:
    """A stable shard number for a resource (the same in every replica and across restarts)."""
    if shards <= 1:
        return 0
    value = int.from_bytes(hashlib.sha256(f"{namespace}/{name}".encode()).digest()[:8], "big")
    return value % shards


def parse_spec(raw: Any) -> tuple[CloudModelServiceSpec | None, str | None]:
    try:
        return CloudModelServiceSpec.model_validate(raw or {}), None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return None, f"spec.{where}: {first['msg']}" if where else first["msg"]


@dataclass(slots=True)
class Record:
    namespace: str
    name: str
    uid: str
    resource_version: str
    generation: int | None
    spec: CloudModelServiceSpec | None
    spec_error: str | None
    reconcile_request: str | None
    shard: int
    seen_digest: bytes
    ours: bytes | None
    ours_digest: bytes
    last_write: float | None = None  # wall-clock time of the last status write (heartbeat base)
    last_success: float | None = None  # wall-clock time of the last successful fetch (lastSyncTime is coarse)
    poll_due: float | None = None  # monotonic time of the next scheduled poll; None: none scheduled
    woken: bool = False  # the next poll was brought forward by a change (not a scheduled poll)
    bypass_cache: bool = False  # the next poll must ask the provider (a reconcile request)
    token_reserved: bool = False  # a budget token is reserved for this resource's next fetch
    budget: tuple[str, str, str] | None = None  # the provider budget this resource's fetches use
    demand: float = 0.0  # its share of that budget's demand (calls per second)
    observed_digest: bytes | None = None  # digest of the last observation the status was built from
    clean_key: tuple[object, ...] | None = None  # what that clean build depended on besides it
    unannounced: bytes | None = None  # while a write may not have landed: the status last announced
    repairs: int = 0  # writes that put back a status another client changed, in this window
    repair_window: float = 0.0

    @property
    def key(self) -> Key:
        return (self.namespace, self.name)

    @property
    def secret(self) -> str | None:
        return self.spec.credentialsSecretRef.name if self.spec is not None else None
