"""Subscription dates for the default bodies, relative to when the simulator process started.

The seed documents' example dates lie in the past, so a sandbox scraped by Prometheus would raise
the "expired" alerts from its first minute. Relative dates keep every sample subscription current
(none within the 7-day warning window), and fixed for the life of the process so a poll never
sees a changed status just because time passed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

STARTED = datetime.now(UTC).replace(microsecond=0)


def at(offset: timedelta, *, millis: bool = False) -> str:
    """RFC 3339 UTC for STARTED + offset; `millis` adds the .sss some providers send."""
    moment = STARTED + offset
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z" if millis else "%Y-%m-%dT%H:%M:%SZ")
