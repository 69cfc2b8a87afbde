"""CPU and memory of a process from /proc (Linux): what the kernel accounts, nothing sampled."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Usage:
    cpu_seconds: float  # user + system, since the process started
    rss_bytes: int  # VmRSS now
    peak_rss_bytes: int  # VmHWM: the high-water mark since the process started


def parse_stat_cpu(stat: str, ticks: int = CLOCK_TICKS) -> float:
    """utime + stime (fields 14 and 15) of a /proc/<pid>/stat line, in seconds.

    The command name (field 2) is in parentheses and may contain spaces, so fields are counted
    from the last ')'.
    """
    rest = stat[stat.rindex(")") + 2 :].split()
    # rest[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (int(rest[11]) + int(rest[12])) / ticks


def parse_status_memory(status: str) -> tuple[int, int]:
    """(VmRSS, VmHWM) in bytes from /proc/<pid>/status; 0 when absent (a zombie has neither)."""
    values = {"VmRSS": 0, "VmHWM": 0}
    for line in status.splitlines():
        key, _, rest = line.partition(":")
        if key in values:
            values[key] = int(rest.split()[0]) * 1024  # reported in kB
    return values["VmRSS"], values["VmHWM"]


def usage(pid: int) -> Usage | None:
    """The process' usage now, or None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    rss, peak = parse_status_memory(status)
    return Usage(parse_stat_cpu(stat), rss, peak)


def find_pids(*needles: str) -> list[int]:
    """Processes whose command line contains every needle (to find etcd and kube-apiserver)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if all(needle in cmdline for needle in needles):
            found.append(int(entry.name))
    return sorted(found)


def load_average() -> tuple[float, float, float]:
    one, five, fifteen = Path("/proc/loadavg").read_text().split()[:3]
    return float(one), float(five), float(fifteen)
