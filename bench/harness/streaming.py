"""One streamed run: time to the first stdout line and the parent process's peak RSS."""
from __future__ import annotations

import errno
import os
import pty
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .records import Job
from .rounds import children_cpu, reap_orphans
from .tools import tail

POLL_SECONDS = 0.01


@dataclass(frozen=True)
class StreamRun:
    """What one streamed run measured."""

    wall: float
    cpu: float
    first_line: float | None
    peak_rss_mb: float
    lines: int
    exit: int
    error: str


def read_peak_rss_kb(pid: int) -> int | None:
    """VmHWM (the kernel's high-water mark of resident memory) of one process, in KB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def watch_peak_rss(pid: int, stop: threading.Event, box: dict) -> None:
    """Poll one process's VmHWM until told to stop or the process is gone."""
    # VmHWM only grows, so polling loses nothing but the last POLL_SECONDS of the run;
    # it is read from /proc/PID of this one process, so workers' memory is never counted.
    while not stop.is_set():
        kb = read_peak_rss_kb(pid)
        if kb is None:
            return
        box["kb"] = max(box.get("kb", 0), kb)
        stop.wait(POLL_SECONDS)


def stdout_pair(terminal: bool) -> tuple[int, int]:
    """(read end for us, write end for the child): a pseudo-terminal or a pipe."""
    return pty.openpty() if terminal else os.pipe()


def drain(fd: int, started: float) -> tuple[float | None, int]:
    """Read a stream to its end: when its first line arrived, and how many lines it held."""
    first_at, lines = None, 0
    while True:
        try:
            chunk = os.read(fd, 1 << 16)
        except OSError as err:
            if err.errno == errno.EIO:  # a pseudo-terminal's end: the child closed its side
                break
            raise
        if not chunk:
            break
        if first_at is None and b"\n" in chunk:
            first_at = time.perf_counter() - started
        lines += chunk.count(b"\n")
    return first_at, lines


def run_streamed(job: Job, terminal: bool) -> StreamRun:
    """Run a job with stdout on a terminal or a pipe that is read as it comes."""
    ours, theirs = stdout_pair(terminal)
    box: dict = {}
    stop = threading.Event()
    with tempfile.TemporaryFile() as errors:
        cpu_before = children_cpu()
        started = time.perf_counter()
        proc = subprocess.Popen(job.argv, env={**os.environ, **job.env}, stdin=subprocess.DEVNULL,
                                stdout=theirs, stderr=errors)
        os.close(theirs)
        watcher = threading.Thread(target=watch_peak_rss, args=(proc.pid, stop, box), daemon=True)
        watcher.start()
        try:
            first_at, lines = drain(ours, started)
        finally:
            os.close(ours)
        code = proc.wait()
        wall = time.perf_counter() - started
        reap_orphans()
        cpu = children_cpu() - cpu_before
        stop.set()
        watcher.join()
        errors.seek(0)
        error = tail(errors.read()) if code else ""
    return StreamRun(wall, cpu, first_at, box.get("kb", 0) / 1024, lines, code, error)
