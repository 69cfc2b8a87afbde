"""The provider simulator as its own process, logging warnings only.

`python -m cloudmodel_dev.bench.simprocess SCENARIO PORT`: the benchmark runs the simulator apart
from itself so that the simulator's CPU is measured on its own (it must not be the bottleneck),
and at warning level because a log line per request would be most of its work at 10,000 targets.
"""

from __future__ import annotations

import logging
import sys

from cloudmodel_dev.simulator.server import main
from cloudmodel_operator import logsetup


def run(argv: list[str]) -> int:
    scenario, port = argv
    logsetup.configure(logging.WARNING)
    return main(scenario, "127.0.0.1", int(port))


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
