"""When a resource is next polled.

After a restart (or a takeover), a resource whose status is fresh is due when its interval ends,
counted from the `lastSyncTime` the status shows, so a restart causes no storm of fetches and no
writes. `lastSyncTime` is coarse (it is refreshed on change or by the heartbeat), so a status
whose last sync is older than one interval but within the heartbeat is still fresh: its next
poll is spread evenly over the coming interval; a terminal error keeps its recheck cadence from the time the failure began; a spec
changed while nobody watched, an unanswered reconcile request or a status that is too old is due
now. Intervals carry jitter so a fleet created at once does not poll in lockstep.
"""

from __future__ import annotations

import math
import random
from datetime import datetime
from typing import Any

JITTER = 0.1  # polls vary by +-10% of their interval


def jittered(interval: float) -> float:
    return interval * random.uniform(1 - JITTER, 1 + JITTER)  # noqa: S311 - spreading load, not security


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def first_delay(
    status: dict[str, Any],
    *,
    generation: int | None,
    reconcile_request: str | None,
    interval: float,
    terminal_recheck: float,
    heartbeat: float,
    now: datetime,
) -> float:
    """Seconds from now until the first poll of a resource the engine has just taken on."""
    if not status:
        return 0.0
    if generation is not None and status.get("observedGeneration") != generation:
        return 0.0
    if reconcile_request is not None and status.get("lastHandledReconcileAt") != reconcile_request:
        return 0.0
    failure = status.get("failure")
    if isinstance(failure, dict) and failure.get("retrying") is False:
        since = _time(failure.get("since"))
        if since is not None:
            elapsed = max((now - since).total_seconds(), 0.0)
            rechecks = max(math.ceil(elapsed / terminal_recheck), 1)
            return since.timestamp() + rechecks * terminal_recheck - now.timestamp()
        return terminal_recheck * random.uniform(0.0, 1.0)  # noqa: S311
    last_sync = _time(status.get("lastSyncTime"))
    if last_sync is None:
        return 0.0
    age = now.timestamp() - last_sync.timestamp()
    if age < interval:
        return interval - age + interval * JITTER * random.uniform(0.0, 1.0)  # noqa: S311
    if age < max(interval, heartbeat) + interval:
        return interval * random.uniform(0.0, 1.0)  # noqa: S311
    return 0.0
