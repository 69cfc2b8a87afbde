"""`cloudmodel`: run the operator, or probe one provider target from a workstation.

The provider simulator and the local sandbox are development tools: `cloudmodel-dev`.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from datetime import timedelta

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cloudmodel",
        description="Mirror model services on Chinese clouds into Kubernetes CloudModelService status.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser("run", help="run the operator (wraps Kopf)")
    run.add_argument("--namespace", "-n", action="append", default=None,
                     help="watch only this namespace (repeatable; env CLOUDMODEL_NAMESPACES); default: all")  # fmt: skip
    run.add_argument("--standalone", action="store_true", default=_env("STANDALONE") == "true",
                     help="no peering: for a single replica (env CLOUDMODEL_STANDALONE=true)")  # fmt: skip
    run.add_argument("--peering", default=_env("PEERING"),
                     help="Kopf peering object name for active/standby replicas (env CLOUDMODEL_PEERING)")  # fmt: skip
    run.add_argument("--heartbeat", type=_duration, default=_duration(_env("HEARTBEAT", "5m") or "5m"),
                     help="refresh status.lastSyncTime at most this often when nothing changed (default 5m)")  # fmt: skip
    run.add_argument("--stale-after-polls", type=int, default=int(_env("STALE_AFTER_POLLS", "3") or 3),
                     help="turn Ready Unknown after this many poll intervals without a successful fetch")  # fmt: skip
    run.add_argument("--terminal-recheck", type=_duration,
                     default=_duration(_env("TERMINAL_RECHECK", "10m") or "10m"),
                     help="after auth/not-found errors, check again this often (default 10m)")  # fmt: skip
    run.add_argument("--rate-limit", type=float, default=float(_env("RATE_LIMIT", "5") or 5),
                     help="provider requests per second per account and endpoint (default 5)")  # fmt: skip
    run.add_argument("--rate-burst", type=int, default=int(_env("RATE_BURST", "10") or 10),
                     help="token bucket burst (default 10)")  # fmt: skip
    run.add_argument("--metrics-port", type=int, default=int(_env("METRICS_PORT", "8080") or 8080),
                     help="Prometheus /metrics port, 0 to disable (default 8080)")  # fmt: skip
    run.add_argument("--health-port", type=int, default=int(_env("HEALTH_PORT", "8081") or 8081),
                     help="liveness /healthz port, 0 to disable (default 8081)")  # fmt: skip
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
    settings = Settings(
        namespaces=tuple(args.namespace or _env_list("NAMESPACES")),
        standalone=args.standalone,
        peering=args.peering,
        heartbeat=args.heartbeat,
        stale_after_polls=args.stale_after_polls,
        terminal_recheck=args.terminal_recheck,
        rate_limit=args.rate_limit,
        rate_burst=args.rate_burst,
        metrics_port=args.metrics_port,
        health_port=args.health_port,
        allow_endpoints=args.allow_endpoint,
        kubeconfig=args.kubeconfig,
        log_level=args.log_level,
    )
    run(settings)
    return 0
