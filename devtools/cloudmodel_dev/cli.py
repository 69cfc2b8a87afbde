"""`cloudmodel-dev`: the provider simulator and the local sandbox (development tools only)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from cloudmodel_dev.sandbox import SIMULATOR_PORT
from cloudmodel_operator import __version__


def _port(text: str) -> int:
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a TCP port")
    return port


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cloudmodel-dev",
        description="Development tools for cloudmodel-operator: provider simulator and local sandbox.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    simulate = commands.add_parser("simulate", help="serve the four provider APIs on loopback")
    simulate.add_argument(
        "--scenario", default=None, help="scenario YAML (default: the built-in sandbox one)"
    )
    simulate.add_argument("--host", default="127.0.0.1")
    simulate.add_argument("--port", type=int, default=8787)

    sandbox = commands.add_parser("sandbox", help="local control plane + simulator + operator + samples")
    sandbox.add_argument("--scenario", default=None, help="simulator scenario YAML")
    sandbox.add_argument(
        "--simulator-port", type=_port, default=SIMULATOR_PORT, metavar="N",
        help=f"the provider simulator's port on 127.0.0.1; the samples' spec.endpoint follows it (default {SIMULATOR_PORT})",
    )  # fmt: skip
    sandbox.add_argument(
        "--metrics-port", type=_port, default=0, metavar="N",
        help="the operator's /metrics port (default: any free port)",
    )  # fmt: skip

    from cloudmodel_dev.bench.cli import add_parser as add_bench_parser

    add_bench_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "simulate":
        from cloudmodel_dev.simulator.server import main as simulate_main

        return simulate_main(args.scenario, args.host, args.port)
    if args.command == "sandbox":
        from cloudmodel_dev.sandbox import main as sandbox_main

        return sandbox_main(args.scenario, args.simulator_port, args.metrics_port)
    if args.command == "bench":
        from cloudmodel_dev.bench.cli import main as bench_main

        return bench_main(args)
    parser.print_help()
    return 0
