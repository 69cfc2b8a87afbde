"""Benchmark: the cost of one redact() call as the number of registered secrets grows.

    .venv/bin/python hack/bench_redact.py [--secrets 10 1000 10000] [--calls 2000]

Prints microseconds per call for a typical 282-character failure message, with and without a
registered secret in it. Each size runs in a fresh interpreter (registered secrets accumulate).
"""

from __future__ import annotations

import argparse
import secrets
import subprocess
import sys
import time

TEXT = (
    "fetching huawei-modelarts 0c9d/6f1c failed: APIG.0301 HTTP 401: Incorrect IAM authentication "
    "information: decrypt token fail (request abc123)"
) * 2


def measure(count: int, calls: int) -> None:
    from cloudmodel_operator import redact

    values = [secrets.token_urlsafe(30) for _ in range(count)]
    for value in values:
        redact.register_secret(value)
    for label, sample in (("no secret in it", TEXT), ("one secret in it", TEXT + values[-1])):
        assert values[-1] not in redact.redact(sample)
        started = time.perf_counter()
        for _ in range(calls):
            redact.redact(sample)
        micros = (time.perf_counter() - started) / calls * 1e6
        print(f"{count:>6} registered secrets, {label:<16}: {micros:7.1f} us per call", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="redact() cost per call")
    parser.add_argument("--secrets", type=int, nargs="+", default=[10, 1000, 10000])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # the child's own size
    args = parser.parse_args()
    if args.one is not None:
        measure(args.one, args.calls)
        return
    for count in args.secrets:
        command = [sys.executable, __file__, "--one", str(count), "--calls", str(args.calls)]
        subprocess.run(command, check=True)  # noqa: S603 - this interpreter running this script


if __name__ == "__main__":
    main()
