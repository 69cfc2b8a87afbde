"""Operator settings, from flags with environment-variable fallbacks (see `cloudmodel run --help`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta


@dataclass(frozen=True)
class Settings:
    namespaces: tuple[str, ...] = ()  # empty: all namespaces
    standalone: bool = False
    peering: str | None = None
    heartbeat: timedelta = timedelta(minutes=5)  # lastSyncTime is refreshed at most this often
    stale_after_polls: int = 3  # Ready turns Unknown after this many poll intervals without success
    terminal_recheck: timedelta = timedelta(minutes=10)  # re-check after auth/not-found errors
    jitter: float = 0.1  # poll intervals vary by +-10%
    rate_limit: float = 5.0  # provider requests per second per account and endpoint
    rate_burst: int = 10
    retry_attempts: int = 3
    metrics_port: int = 8080
    health_port: int = 8081
    allow_endpoints: tuple[str, ...] = field(default_factory=tuple)
    kubeconfig: str | None = None
    log_level: str = "INFO"
