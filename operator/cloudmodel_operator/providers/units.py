"""Small conversions every provider mapping needs: quantities, epoch timestamps, attribute maps."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def quantity(value: float | None, suffix: str = "") -> str | None:
    """A Kubernetes quantity string: `32`, `0.5`, `128Gi`; None stays None."""
    if value is None:
        return None
    number = int(value) if float(value).is_integer() else value
    return f"{number}{suffix}"


def epoch_ms_to_iso(value: int | None) -> str | None:
    """Epoch milliseconds as RFC 3339 UTC seconds, the way Kubernetes writes times."""
    if value is None:
        return None
    return datetime.fromtimestamp(value / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def present(values: dict[str, Any]) -> dict[str, str]:
    """The entries that have a value, as strings (status attributes are a string map).

    Booleans are written `true`/`false`, as JSON and YAML readers of the status expect.
    """
    return {
        key: ("true" if value else "false") if isinstance(value, bool) else str(value)
        for key, value in values.items()
        if value is not None
    }
