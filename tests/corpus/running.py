"""Running batchproc over a corpus as a user does, in a session of its own, under a watch on
the memory of its whole process tree; its JSON records collected by input path."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .cases import CorpusFile
from .steps import StepCommand


#: Above this, the process tree of a batchproc run is stopped: no corpus file needs it.
RUN_MEMORY_LIMIT = 3 << 30



@dataclass
class Watched:
    """A finished (or stopped) process tree: its output, time and peak memory."""

    returncode: int | None
    stdout: bytes
    stderr: bytes
    seconds: float
    #: Peak of the sum of VmHWM over the processes of the session alive at each poll: an upper
    #: bound of the tree's resident memory at any moment (no process's peak is missed).
    peak_bytes: int
    #: Why it was stopped ("used more than 1.0 GB", "still running after 60 s"), or None.
    stopped: str | None = None


def _session_members(session: int) -> list[int]:
    members = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as handle:
                    fields = handle.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == session:  # state ppid pgrp session...
                members.append(int(name))
    return members


def _high_water_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_watched(argv, *, limit_bytes: int, timeout: float, env=None, cwd=None,
                interval: float = 0.01) -> Watched:
    """Run `argv` in a session of its own and watch the memory of every process in it
    (workers included), stopping the whole session past `limit_bytes` or `timeout` seconds."""
    started = time.monotonic()
    process = subprocess.Popen([str(a) for a in argv], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env, cwd=cwd,
                               start_new_session=True)
    streams = {}

    def drain(name, stream):
        streams[name] = stream.read()
    readers = [threading.Thread(target=drain, args=(name, stream), daemon=True)
               for name, stream in (("stdout", process.stdout), ("stderr", process.stderr))]
    for reader in readers:
        reader.start()
    peak_kb, stopped = 0, None
    while process.poll() is None:
        members = _session_members(process.pid)
        peak_kb = max(peak_kb, sum(_high_water_kb(pid) for pid in members))
        elapsed = time.monotonic() - started
        if peak_kb * 1024 > limit_bytes:
            stopped = f"used more than {limit_bytes / (1 << 30):.1f} GB"
        elif elapsed > timeout:
            stopped = f"still running after {timeout:.0f} s"
        if stopped:
            for pid in members:  # every process of the session we started, by its id
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            break
        time.sleep(interval)
    process.wait()
    seconds = time.monotonic() - started
    for member in _session_members(process.pid):  # workers that outlived their parent
        try:
            os.kill(member, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for reader in readers:
        reader.join()
    return Watched(process.returncode, streams.get("stdout", b""), streams.get("stderr", b""),
                   seconds, peak_kb * 1024, stopped)


def batchproc_argv(*arguments) -> list[str]:
    """batchproc as a user runs it: the installed package's command line, in a new process."""
    return [sys.executable, "-m", "batchproc", *map(str, arguments)]


@dataclass
class StepRun:
    """One batchproc run over a folder: a record per input file, and how the run went."""

    argv: list[str]
    watched: Watched
    #: input path -> its JSON record.
    records: dict[str, dict] = field(default_factory=dict)
    #: stdout lines that were not JSON records.
    stray_lines: list[str] = field(default_factory=list)


def run_batchproc(arguments, *, limit_bytes=RUN_MEMORY_LIMIT, timeout=600.0, env=None) -> StepRun:
    """Run batchproc with --json and collect its records by input path."""
    argv = batchproc_argv(*arguments, "--json", "--jobs", "2")
    watched = run_watched(argv, limit_bytes=limit_bytes, timeout=timeout,
                          env={**os.environ, **(env or {})})
    result = StepRun(argv, watched)
    for line in watched.stdout.decode("utf-8", "replace").splitlines():
        try:
            record = json.loads(line)
            result.records[record["input"]] = record
        except (ValueError, KeyError, TypeError):
            result.stray_lines.append(line)
    return result


def run_step(step: StepCommand, folder, out, *, exclude=()) -> StepRun:
    """Run an image step over a corpus folder into `out` (leaving out the names in `exclude`)."""
    excluded = [word for name in exclude for word in ("--exclude", name)]
    return run_batchproc([*step.argv, folder, "--out", out, *excluded])


def copy_corpus(files: list[CorpusFile], folder, into) -> dict[str, CorpusFile]:
    """Copy the written files (no memory bombs) from `folder` into `into`: new path -> file."""
    copies = {}
    for item in files:
        if item.path is None or item.memory_bomb:
            continue
        target = Path(into) / item.path.relative_to(folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(item.path, target)
        copies[str(target)] = item
    return copies
