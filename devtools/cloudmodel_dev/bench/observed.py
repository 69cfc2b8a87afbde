"""What the benchmark keeps of one object (a watch event or a listed item): reduced once, where read.

An object of a few kilobytes becomes a `Seen` of a few fields: when it was seen, its name, its
resourceVersion, the digest of its status and what the rows ask of a status (synced, fresh,
the benchmark's stale marker), and who wrote the status: the field managers that own part of it
with the `time` of their last change (`metadata.managedFields`). A whole-status write moves
every field it changes to its writer and stamps that manager's `time`, so the manager with the
newest time is the last writer; the operator's replicas each write under their own manager
(`cloudmodel-operator/<identity>`; standalone: `cloudmodel-operator`).

`encode` and `decode` carry a `Seen` as one line of JSON from the watch process to the runner.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cloudmodel_dev.bench.documents import MARKER

OPERATOR_MANAGER = "cloudmodel-operator"


def is_operator(manager: str) -> bool:
    """A field manager the operator writes statuses under (any replica)."""
    return manager == OPERATOR_MANAGER or manager.startswith(OPERATOR_MANAGER + "/")


@dataclass(frozen=True)
class Seen:
    """One watch event (or listed item) of one object, reduced to what the rows need."""

    t: float  # when it arrived (epoch seconds)
    name: str
    kind: str  # ADDED, MODIFIED, DELETED, LISTED (initial listing) or RELISTED (a re-list)
    last_sync: float | None  # status.lastSyncTime, epoch seconds
    synced: bool  # condition Synced is True
    marker: bool  # the status carries the benchmark's marker message (its stale document)
    status_changed: bool  # the status differs from the previous event's (a status write)
    digest: str
    size: int
    version: str = ""  # metadata.resourceVersion
    reason: str | None = None  # the Synced condition's reason (why fetching fails, when it does)
    from_relist: bool = False  # inferred on a re-list: the watch missed the event itself
    # (manager, time of its last change, epoch seconds) for every manager owning part of the status
    managers: tuple[tuple[str, float], ...] = ()

    def last_writer(self) -> str | None:
        """The manager that changed the status last; None when none or when two tie to the second."""
        if not self.managers:
            return None
        newest = max(t for _, t in self.managers)
        writers = {m for m, t in self.managers if t == newest}
        return next(iter(writers)) if len(writers) == 1 else None

    def operator_writers_since(self, since: float) -> set[str]:
        """Operator managers that changed the status at or after `since` (managedFields keep whole seconds)."""
        floor = math.floor(since)
        return {m for m, t in self.managers if is_operator(m) and t >= floor}

    def operator_write_time(self) -> float | None:
        """When an operator replica last changed the status (whole seconds), if one ever did."""
        times = [t for m, t in self.managers if is_operator(m)]
        return max(times) if times else None


def digest_of(status: dict[str, Any]) -> str:
    # The API server returns a stored object's fields in a stable order, so equal statuses give
    # equal text without sorting (a writer reordering keys is a write anyway).
    return hashlib.blake2b(json.dumps(status).encode(), digest_size=8).hexdigest()


EMPTY_DIGEST = digest_of({})


def epoch(text: Any) -> float | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def status_managers(obj: dict[str, Any]) -> tuple[tuple[str, float], ...]:
    """(manager, time) of every managedFields entry that owns part of `status`."""
    found = []
    for entry in (obj.get("metadata") or {}).get("managedFields") or []:
        fields = entry.get("fieldsV1") or {}
        if "f:status" not in fields:
            continue
        at = epoch(entry.get("time"))
        found.append((str(entry.get("manager") or ""), at if at is not None else 0.0))
    return tuple(found)


def reduce(
    obj: dict[str, Any],
    kind: str,
    t: float,
    size: int,
    previous: Seen | None,
    *,
    from_relist: bool = False,
) -> Seen:
    status = obj.get("status") or {}
    digest = digest_of(status)
    conditions: list[dict[str, Any]] = status.get("conditions") or []
    synced_condition: dict[str, Any] = next((c for c in conditions if c.get("type") == "Synced"), {})
    return Seen(
        t=t,
        name=str(obj["metadata"]["name"]),
        kind=kind,
        last_sync=epoch(status.get("lastSyncTime")),
        synced=synced_condition.get("status") == "True",
        marker=status.get("message") == MARKER,
        status_changed=previous is None or previous.digest != digest,
        digest=digest,
        size=size,
        version=str(obj["metadata"].get("resourceVersion", "")),
        reason=synced_condition.get("reason"),
        from_relist=from_relist,
        managers=status_managers(obj),
    )


def encode(seen: Seen) -> bytes:
    """One line for the pipe (`status_changed` and `from_relist` are the reader's to decide)."""
    row = [
        seen.t, seen.name, seen.kind, seen.last_sync, seen.synced, seen.marker, seen.digest,
        seen.size, seen.version, seen.reason, [list(m) for m in seen.managers],
    ]  # fmt: skip
    return json.dumps(row, separators=(",", ":")).encode() + b"\n"


def decode(line: bytes | str) -> Seen:
    t, name, kind, last_sync, synced, marker, digest, size, version, reason, managers = json.loads(line)
    return Seen(
        t=float(t),
        name=str(name),
        kind=str(kind),
        last_sync=None if last_sync is None else float(last_sync),
        synced=bool(synced),
        marker=bool(marker),
        status_changed=True,
        digest=str(digest),
        size=int(size),
        version=str(version),
        reason=None if reason is None else str(reason),
        managers=tuple((str(m), float(at)) for m, at in managers),
    )
