"""Sampling profiles of the operator with py-spy: collapsed stacks, a speedscope file, a top-20 text.

py-spy records in its "raw" (collapsed stack) format; this module turns that into a
speedscope document (open it at https://www.speedscope.app or with `speedscope FILE`) and a
plain-text summary of the functions that hold the most samples, by self and by total time.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def parse_collapsed(text: str) -> list[tuple[list[str], int]]:
    """`frame;frame;frame count` lines -> (stack root first, count)."""
    stacks = []
    for line in text.splitlines():
        line = line.rstrip()
        if not line:
            continue
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        stacks.append((stack.split(";"), int(count)))
    return stacks


def speedscope(stacks: Iterable[tuple[list[str], int]], name: str) -> dict[str, Any]:
    """A speedscope 'sampled' profile with sample counts as weights."""
    frames: list[dict[str, str]] = []
    index: dict[str, int] = {}
    samples: list[list[int]] = []
    weights: list[int] = []
    for stack, count in stacks:
        ids = []
        for frame in stack:
            if frame not in index:
                index[frame] = len(frames)
                frames.append({"name": frame})
            ids.append(index[frame])
        samples.append(ids)
        weights.append(count)
    return {
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "shared": {"frames": frames},
        "profiles": [
            {
                "type": "sampled",
                "name": name,
                "unit": "none",
                "startValue": 0,
                "endValue": sum(weights),
                "samples": samples,
                "weights": weights,
            }
        ],
        "name": name,
        "exporter": "cloudmodel-dev bench",
    }


@dataclass(frozen=True)
class Hot:
    frame: str
    samples: int
    share: float  # of all samples


def top(stacks: list[tuple[list[str], int]], limit: int = 20) -> tuple[list[Hot], list[Hot], int]:
    """(by self samples, by total samples, total samples).

    Process and thread roots are skipped, and so are pass-through frames (one caller chain such
    as main -> run -> run_forever, always calling the same one function and never on top): they
    would fill the total list with lines that say nothing the next line does not.
    """
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    callees: dict[str, set[str]] = {}
    total = 0
    for stack, count in stacks:
        frames = [f for f in stack if not f.startswith(("process ", "thread "))]
        total += count
        if frames:
            own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
        for caller, callee in itertools.pairwise(frames):
            callees.setdefault(caller, set()).add(callee)
    for frame, called in callees.items():
        if len(called) == 1 and own[frame] == 0:
            del inclusive[frame]

    def rows(counter: Counter[str]) -> list[Hot]:
        return [Hot(f, n, n / total if total else 0.0) for f, n in counter.most_common(limit)]

    return rows(own), rows(inclusive), total


def summary_text(stacks: list[tuple[list[str], int]], title: str, limit: int = 20) -> str:
    own, inclusive, total = top(stacks, limit)
    lines = [f"{title}: {total} samples", "", f"top {limit} by self samples:"]
    lines += [f"  {h.share:6.1%} {h.samples:7d}  {h.frame}" for h in own]
    lines += ["", f"top {limit} by total samples (the function or anything it called):"]
    lines += [f"  {h.share:6.1%} {h.samples:7d}  {h.frame}" for h in inclusive]
    return "\n".join(lines) + "\n"


def py_spy() -> str | None:
    """The py-spy next to this interpreter (the venv), else on PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


class Recording:
    """`py-spy record` attached to a pid until `stop()`; then writes the three outputs."""

    def __init__(self, pid: int, stem: Path, title: str, rate: int = 50) -> None:
        self.stem = stem
        self.title = title
        self.raw = stem.with_suffix(".collapsed.txt")
        self.error: str | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._pid = pid
        self._rate = rate

    async def start(self) -> None:
        binary = py_spy()
        if binary is None:
            self.error = "py-spy is not installed"
            return
        self.stem.parent.mkdir(parents=True, exist_ok=True)
        self._process = await asyncio.create_subprocess_exec(
            binary, "record", "--pid", str(self._pid), "--rate", str(self._rate), "--nonblocking",
            "--format", "raw", "--output", str(self.raw),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip

    async def stop(self) -> dict[str, str]:
        """Stop sampling and write outputs; returns their paths (or the error)."""
        if self._process is None:
            return {"error": self.error or "not started"}
        if self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._process.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
        try:
            _, stderr = await asyncio.wait_for(self._process.communicate(), timeout=60)
        except TimeoutError:
            self._process.kill()
            return {"error": "py-spy did not stop within 60 s"}
        if not self.raw.exists():
            return {"error": f"py-spy wrote nothing: {stderr.decode(errors='replace').strip()[-300:]}"}
        stacks = parse_collapsed(self.raw.read_text())
        speedscope_path = self.stem.with_suffix(".speedscope.json")
        speedscope_path.write_text(json.dumps(speedscope(stacks, self.title)))
        summary_path = self.stem.with_suffix(".top20.txt")
        summary_path.write_text(summary_text(stacks, self.title))
        return {"collapsed": str(self.raw), "speedscope": str(speedscope_path), "top20": str(summary_path)}
