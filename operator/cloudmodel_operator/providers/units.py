"""Small conversions every provider mapping needs: quantities, epoch times, attribute maps, replicas."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from cloudmodel_operator.api.observation import Replicas, ServiceStatus


def number(value: float) -> str:
    """A number as a quantity writes it: `32`, `0.5`; float noise beyond 6 decimals dropped."""
    rounded = round(float(value), 6)
    return str(int(rounded)) if rounded.is_integer() else f"{rounded:.15g}"


def quantity(value: float | None, suffix: str = "", *, times: int = 1) -> str | None:
    """A Kubernetes quantity string (`32`, `0.5`, `128Gi`), optionally multiplied; None stays None."""
    if value is None:
        return None
    return f"{number(value * times)}{suffix}"


def epoch_ms(value: int | None) -> datetime | None:
    """Epoch milliseconds as an aware UTC datetime."""
    if value is None:
        return None
    return datetime.fromtimestamp(value / 1000, UTC)


def epoch_ms_to_iso(value: int | None) -> str | None:
    """Epoch milliseconds as RFC 3339 UTC seconds, the way Kubernetes writes times."""
    moment = epoch_ms(value)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else None


def present(values: dict[str, Any]) -> dict[str, str]:
    """The entries that have a value, as strings (status attributes are a string map).

    Booleans are written `true`/`false`, as JSON and YAML readers of the status expect.
    """
    return {
        key: ("true" if value else "false") if isinstance(value, bool) else str(value)
        for key, value in values.items()
        if value is not None
    }


def total_replicas(services: Iterable[ServiceStatus]) -> Replicas:
    """Replicas summed over the services that report a count.

    `ready` is left unset when any counted service cannot say how many of its replicas are
    ready: a sum that silently treats "unknown" as 0 or as all would be a confident wrong number.
    """
    counted = [s for s in services if s.replicas is not None]
    if not counted:
        return Replicas()
    desired = sum(s.replicas or 0 for s in counted)
    ready_known = all(s.readyReplicas is not None for s in counted)
    return Replicas(
        desired=desired, ready=sum(s.readyReplicas or 0 for s in counted) if ready_known else None
    )
