"""Bounded field types for the providers' response models: nothing unvalidated becomes data.

A provider answer is checked where it is parsed: a NaN, a negative count, an absurd magnitude or a
timestamp that is not one fails validation there, and the call ends in `InvalidResponse` naming
the field (`providers.http.validate`), instead of reaching the status as "nan" or "-5/-5".
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, Field

# Far above any real node, service or account, far below what breaks arithmetic or a quantity.
MAX_AMOUNT = 1e9  # cores, cards, GiB, MB, compute units
MAX_COUNT = 1_000_000  # replicas, instances, nodes
MAX_COUNTER = 1e18  # traffic counters (invocations)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
MAX_EPOCH_MS = int(LATEST.timestamp() * 1000)


def _plausible(value: datetime) -> datetime:
    moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if not EARLIEST <= moment <= LATEST:
        raise ValueError("a time outside 1970..9999")
    return moment


Amount = Annotated[float, Field(ge=0, le=MAX_AMOUNT, allow_inf_nan=False)]
"""A resource amount: finite, not negative, not absurd."""

Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
"""A number of replicas, instances or nodes."""

TrafficCount = Annotated[int, Field(ge=0, le=MAX_COUNTER)]
"""A traffic counter."""

Percent = Annotated[int, Field(ge=0, le=100)]

Weight = Annotated[int, Field(ge=0, le=100)]
"""A traffic share in percent."""

Level = Annotated[int, Field(ge=0, le=1000)]
"""A small documented enum number (levels, types, sources)."""

EpochMs = Annotated[int, Field(ge=0, le=MAX_EPOCH_MS)]
"""Milliseconds since 1970-01-01 UTC."""

Instant = Annotated[datetime, AfterValidator(_plausible)]
"""An ISO 8601 time; naive values are UTC by the providers' documentation. "" is not a time."""
