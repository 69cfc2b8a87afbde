"""A faithful Python port of kstatus's status computation for custom resources.

Flux (and kpt, Config Sync) decide health with sigs.k8s.io/cli-utils/pkg/kstatus/status.Compute.
For a custom resource without type-specific rules it runs, in order: deletion -> Terminating;
observedGeneration != generation -> InProgress; Reconciling=True -> InProgress; Stalled=True ->
Failed; then the Ready condition (True -> Current, False/Unknown -> InProgress); with none of
these the resource counts as Current.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CURRENT = "Current"
IN_PROGRESS = "InProgress"
FAILED = "Failed"
TERMINATING = "Terminating"


@dataclass(frozen=True)
class Result:
    status: str
    message: str


def compute(obj: dict[str, Any]) -> Result:
    meta = obj.get("metadata") or {}
    status = obj.get("status") or {}
    if meta.get("deletionTimestamp"):
        return Result(TERMINATING, "Resource scheduled for deletion")
    generation = meta.get("generation")
    observed = status.get("observedGeneration")
    if generation is not None and observed is not None and observed != generation:
        kind = obj.get("kind", "")
        return Result(
            IN_PROGRESS, f"{kind} generation is {generation}, but latest observed generation is {observed}"
        )
    conditions = status.get("conditions") or []
    for condition in conditions:
        if condition.get("type") == "Reconciling" and condition.get("status") == "True":
            return Result(IN_PROGRESS, condition.get("message", ""))
        if condition.get("type") == "Stalled" and condition.get("status") == "True":
            return Result(FAILED, condition.get("message", ""))
    for condition in conditions:
        if condition.get("type") != "Ready":
            continue
        if condition.get("status") == "True":
            return Result(CURRENT, "Resource is Ready")
        return Result(IN_PROGRESS, condition.get("message", ""))
    return Result(CURRENT, "Resource is current")
