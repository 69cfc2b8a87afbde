"""The processes under test: started with their own logs, measured from /proc, stopped by pid only."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from cloudmodel_dev.bench import procstat


@dataclass
class Stopped:
    how: str  # "exited", "SIGTERM", "SIGKILL after N s"
    seconds: float  # from the stop request to exit
    returncode: int | None
    cpu_seconds: float  # whole lifetime, from the kernel's accounting at exit
    peak_rss_bytes: int


LIVE: set[Proc] = set()  # started and not yet stopped: `stop_all()` ends them whatever happened


async def stop_all() -> None:
    for proc in list(LIVE):
        await proc.stop(kill=True)


@dataclass(eq=False)
class Proc:
    """A child process and its log. `started` is the wall time just before it was spawned."""

    name: str
    args: list[str]
    log_path: Path
    env: dict[str, str] | None = None
    stdout_pipe: bool = False  # read stdout with `read_line()`; stderr still goes to the log
    popen: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    bound_hit: str | None = None  # set by the watchdog when it killed the process
    exited: asyncio.Future[None] | None = field(default=None, repr=False)  # done when it exits
    _watchdog: asyncio.Task[None] | None = field(default=None, repr=False)

    def start(self) -> Proc:
        """Spawn it; must be called from the running event loop (the exit is awaited there)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        env = dict(os.environ)
        env.update(self.env or {})
        self.started = time.time()
        self.popen = subprocess.Popen(  # noqa: S603 - our own programs
            self.args,
            stdout=subprocess.PIPE if self.stdout_pipe else log,
            stderr=log if self.stdout_pipe else subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        log.close()
        LIVE.add(self)
        self.exited = asyncio.ensure_future(asyncio.to_thread(_wait_exit, self.popen.pid))
        return self

    async def read_line(self, within: float) -> str | None:
        """The next stdout line, or None at end of output or after `within` seconds."""
        assert self.popen is not None
        assert self.popen.stdout is not None
        reading = asyncio.ensure_future(asyncio.to_thread(self.popen.stdout.readline))
        try:
            line = await asyncio.wait_for(asyncio.shield(reading), timeout=within)
        except TimeoutError:
            return None
        return line.decode(errors="replace").rstrip("\n") if line else None

    async def wait_exit(self, within: float | None = None) -> bool:
        """True when the process exited within `within` seconds (it is not reaped: see `stop()`)."""
        assert self.exited is not None
        try:
            await asyncio.wait_for(asyncio.shield(self.exited), timeout=within)
        except TimeoutError:
            return False
        return True

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        """Running (not yet exited). Never reaps: the exit status and rusage are left for `stop()`."""
        if self.popen is None or self.popen.returncode is not None:
            return False
        try:
            info = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return False
        return info is None

    def usage(self) -> procstat.Usage | None:
        return procstat.usage(self.pid) if self.alive() else None

    def watch_bounds(self, *, deadline: float | None, max_rss_bytes: int | None) -> None:
        """Kill the process when it passes a wall-clock deadline or a memory bound.

        Memory growth has no event to await: the RSS is sampled every second.
        """

        async def guard() -> None:
            while self.alive():
                now_usage = self.usage()
                if max_rss_bytes is not None and now_usage and now_usage.rss_bytes > max_rss_bytes:
                    self.bound_hit = f"memory bound ({max_rss_bytes // 2**20} MiB RSS)"
                    self.signal(signal.SIGKILL)
                    return
                if deadline is not None and time.time() > deadline:
                    self.bound_hit = "time bound"
                    self.signal(signal.SIGKILL)
                    return
                await asyncio.sleep(1.0)

        self._watchdog = asyncio.create_task(guard(), name=f"bounds-{self.name}")

    def signal(self, signum: int) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signum)

    async def stop(self, *, kill: bool = False, grace: float = 20.0) -> Stopped:
        """SIGTERM (or SIGKILL), wait up to `grace` s, then SIGKILL; reap with the kernel's totals."""
        assert self.popen is not None
        if self._watchdog is not None:
            self._watchdog.cancel()
        asked = time.monotonic()
        how = "exited" if not self.alive() else ("SIGKILL" if kill else "SIGTERM")
        self.signal(signal.SIGKILL if kill else signal.SIGTERM)
        reaping = asyncio.ensure_future(asyncio.to_thread(_reap, self.pid))
        try:
            status, rusage = await asyncio.wait_for(asyncio.shield(reaping), timeout=grace)
        except TimeoutError:
            self.signal(signal.SIGKILL)
            how = f"SIGKILL after {grace:.0f} s"
            status, rusage = await reaping
        self.popen.returncode = os.waitstatus_to_exitcode(status) if status is not None else None
        LIVE.discard(self)
        return Stopped(
            how=how,
            seconds=time.monotonic() - asked,
            returncode=self.popen.returncode,
            cpu_seconds=rusage.ru_utime + rusage.ru_stime if rusage else 0.0,
            peak_rss_bytes=rusage.ru_maxrss * 1024 if rusage else 0,
        )


def _wait_exit(pid: int) -> None:
    """Block until the child has exited, leaving it to be reaped with its rusage."""
    with contextlib.suppress(ChildProcessError):
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)


def _reap(pid: int) -> tuple[int | None, resource.struct_rusage | None]:
    """Block until the child exits; its rusage holds the CPU and peak RSS of its whole life."""
    try:
        _, status, rusage = os.wait4(pid, 0)
    except ChildProcessError:  # already reaped elsewhere
        return None, None
    return status, rusage
