"""`cloudmodel`: run the operator, or probe one provider target from a workstation.

The provider simulator and the local sandbox are development tools: `cloudmodel-dev`.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from cloudmodel_operator import __version__, logsetup
from cloudmodel_operator.api.spec import parse_duration


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"CLOUDMODEL_{name}", default)


def _env_list(name: str) -> list[str]:
    raw = _env(name) or ""
    return [item.strip() for item in raw.split(",") if item.strip()]


def _duration(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _add_endpoint_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-endpoint",
        action="append",
        default=None,
        metavar="REGEX",
        help="permit spec.endpoint base URLs fully matching REGEX (repeatable; env CLOUDMODEL_ALLOW_ENDPOINTS, "
        "comma-separated). Without it only https URLs on the provider's own domain are called.",
    )


def _optional(text: str) -> str | None:
    return text or None


# Flags of `cloudmodel run` that map one to one onto `Settings` fields: (flag, type, default, help).
RUN_FLAGS: list[tuple[str, Callable[[str], Any], str, str]] = [
    ("heartbeat", _duration, "5m", "refresh status.lastSyncTime at most this often when nothing changed"),
    (
        "stale-after-polls",
        int,
        "3",
        "turn Ready Unknown after this many poll intervals without a successful fetch",
    ),
    ("terminal-recheck", _duration, "10m", "after auth/not-found errors, check again this often"),
    ("rate-limit", float, "5", "provider requests per second per account and endpoint"),
    ("rate-burst", int, "10", "provider token bucket burst"),
    ("workers", int, "32", "passes worked on at once"),
    (
        "fetch-timeout",
        _duration,
        "30s",
        "deadline of one fetch, retries included (at most half the poll interval)",
    ),
    ("kube-qps", float, "20", "Kubernetes API requests per second (client-side budget)"),
    ("kube-burst", int, "30", "Kubernetes API burst"),
    ("credentials-ttl", _duration, "5m", "re-read a working credentials Secret this often"),
    ("credentials-recheck", _duration, "30s", "re-read a missing or failing credentials Secret this often"),
    ("shards", int, "1", "split resources into this many shards, each owned through its own Lease"),
    ("lease-name", str, "cloudmodel-operator", "name of the Lease (prefix of the shard Leases)"),
    (
        "lease-namespace",
        _optional,
        "",
        "namespace of the Leases (default: $POD_NAMESPACE, the kubeconfig's, or default)",
    ),
    ("identity", _optional, "", "this replica's name in the Leases (default: $POD_NAME, else host and pid)"),
    ("lease-duration", _duration, "15s", "how long a Lease holds without renewal"),
    ("renew-deadline", _duration, "10s", "the holder stops working when it could not renew for this long"),
    ("retry-period", _duration, "2s", "how often Leases are renewed or tried"),
    ("metrics-port", int, "8080", "Prometheus /metrics port, 0 to disable"),
    ("health-port", int, "8081", "/healthz and /readyz port, 0 to disable"),
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cloudmodel",
        description="Mirror model services on Chinese clouds into Kubernetes CloudModelService status.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser("run", help="run the operator")
    run.add_argument("--namespace", "-n", action="append", default=None,
                     help="watch only this namespace (repeatable; env CLOUDMODEL_NAMESPACES); default: all")  # fmt: skip
    run.add_argument("--standalone", action="store_true", default=_env("STANDALONE") == "true",
                     help="no leader election: a single replica that owns everything (env CLOUDMODEL_STANDALONE=true)")  # fmt: skip
    for flag, kind, default, text in RUN_FLAGS:
        env = flag.upper().replace("-", "_")
        run.add_argument(f"--{flag}", type=kind, default=kind(_env(env, default) or default),
                         help=f"{text} (default {default}; env CLOUDMODEL_{env})")  # fmt: skip
    run.add_argument("--watch-secret-metadata", action="store_true", default=_env("WATCH_SECRET_METADATA") == "true",
                     help="watch Secret metadata (never data) to pick up a fixed Secret at once; needs list/watch on "
                          "secrets (env CLOUDMODEL_WATCH_SECRET_METADATA=true)")  # fmt: skip
    run.add_argument(
        "--kubeconfig", default=None, help="kubeconfig file (default: in-cluster or $KUBECONFIG)"
    )
    run.add_argument(
        "--log-level", default=_env("LOG_LEVEL", "INFO"), help="DEBUG, INFO, WARNING (default INFO)"
    )
    _add_endpoint_flags(run)

    probe = commands.add_parser("probe", help="fetch one provider target and print its status as YAML")
    probe.add_argument("--provider", required=True,
                       choices=["alibaba-hologres", "huawei-modelarts", "baidu-qianfan", "alibaba-guardrail"])  # fmt: skip
    probe.add_argument("--region", required=True)
    probe.add_argument("--id", required=True, help="instance, service, compute-unit or model-instance ID")
    probe.add_argument("--project-id", help="Huawei project ID (huawei-modelarts)")
    probe.add_argument("--scene-type", type=int, choices=[0, 1, 2], help="guardrail scene type")
    probe.add_argument("--endpoint", help="base URL override")
    probe.add_argument("--credentials-file", required=True, help="YAML or JSON with the Secret's keys")
    _add_endpoint_flags(probe)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command in ("run", "probe"):
        args.allow_endpoint = tuple(args.allow_endpoint or _env_list("ALLOW_ENDPOINTS"))
    if args.command == "run":
        return _run(args)
    if args.command == "probe":
        from cloudmodel_operator.probe import main as probe_main

        return probe_main(args)
    parser.error(f"unknown command {args.command}")
    return 2


def _run(args: argparse.Namespace) -> int:
    from cloudmodel_operator.app import run
    from cloudmodel_operator.settings import Settings

    logsetup.configure(args.log_level.upper())
    values = {flag.replace("-", "_"): getattr(args, flag.replace("-", "_")) for flag, _, _, _ in RUN_FLAGS}
    settings = Settings(
        namespaces=tuple(args.namespace or _env_list("NAMESPACES")),
        standalone=args.standalone,
        watch_secret_metadata=args.watch_secret_metadata,
        allow_endpoints=args.allow_endpoint,
        kubeconfig=args.kubeconfig,
        log_level=args.log_level,
        **values,
    )
    if settings.shards < 1 or settings.workers < 1:
        raise SystemExit("cloudmodel run: --shards and --workers must be at least 1")
    if not settings.standalone and settings.renew_deadline >= settings.lease_duration:
        raise SystemExit("cloudmodel run: --renew-deadline must be shorter than --lease-duration")
    run(settings)
    return 0
