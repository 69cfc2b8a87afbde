"""Operator settings, from flags with environment-variable fallbacks (see `cloudmodel run --help`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta


@dataclass(frozen=True)
class Settings:
    namespaces: tuple[str, ...] = ()  # empty: all namespaces
    # Replicas: leader election (one shard) or sharding on coordination.k8s.io Leases.
    standalone: bool = False  # no leases at all: a single replica that owns everything
    lease_namespace: str | None = None  # default: the pod's namespace, else the kubeconfig's, else "default"
    lease_name: str = "cloudmodel-operator"
    identity: str | None = None  # default: $POD_NAME, else hostname and pid
    shards: int = 1
    lease_duration: timedelta = timedelta(seconds=15)
    renew_deadline: timedelta = timedelta(seconds=10)
    retry_period: timedelta = timedelta(seconds=2)
    # The engine.
    workers: int = 32  # passes worked on at once
    fetch_timeout: timedelta = timedelta(
        seconds=30
    )  # a fetch's deadline, retries included (<= half the interval)
    write_timeout: timedelta = timedelta(seconds=10)
    heartbeat: timedelta = timedelta(minutes=5)  # lastSyncTime is refreshed at most this often
    stale_after_polls: int = 3  # Ready turns Unknown after this many poll intervals without success
    terminal_recheck: timedelta = timedelta(minutes=10)  # re-check after auth/not-found errors
    rate_limit: float = 5.0  # provider requests per second per account and endpoint
    rate_burst: int = 10
    retry_attempts: int = 3
    # Kubernetes API.
    kube_qps: float = 20.0
    kube_burst: int = 30
    credentials_ttl: timedelta = timedelta(minutes=5)  # a working Secret is re-read this often
    credentials_recheck: timedelta = timedelta(seconds=30)  # a failing Secret is re-read this often
    watch_secret_metadata: bool = False  # metadata-only watch of Secrets (needs list/watch on secrets)
    # Serving.
    metrics_port: int = 8080
    health_port: int = 8081
    allow_endpoints: tuple[str, ...] = field(default_factory=tuple)
    kubeconfig: str | None = None
    log_level: str = "INFO"
