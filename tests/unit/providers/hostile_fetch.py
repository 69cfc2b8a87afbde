"""Run as a separate process: fetch one target from a simulator and print the peak RSS in bytes.

    python -m tests.unit.providers.hostile_fetch BASE_URL

The measurement needs a process of its own: the peak resident size of a process only grows.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys

from cloudmodel_operator.providers import get_provider
from cloudmodel_operator.providers.base import Credentials, ProviderError, Target
from cloudmodel_operator.providers.http import make_client

TARGET = Target("baidu-qianfan", "bj", instance_id="unit-sandbox-running")
CREDENTIALS = Credentials({"accessKey": "bce-sandbox-ak", "secretKey": "sandbox-baidu-secret"})


async def fetch(base_url: str) -> str:
    async with make_client() as client:
        try:
            observation = await get_provider("baidu-qianfan").observe(client, base_url, TARGET, CREDENTIALS)
        except ProviderError as error:
            return f"{error.error_class.value}: {error.message}"
    return f"ok: {observation.phase.value}"


def peak_rss() -> int:
    """This process's peak resident size in bytes.

    Linux: VmHWM, the high-water mark of this process's own memory map. `ru_maxrss` is not used
    there: it survives exec, so a child of a large test runner would report the runner's peak.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # macOS reports bytes


def main() -> None:
    outcome = asyncio.run(fetch(sys.argv[1]))
    print(json.dumps({"outcome": outcome, "peak_rss_bytes": peak_rss()}))


if __name__ == "__main__":
    main()
