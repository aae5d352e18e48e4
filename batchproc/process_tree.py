"""The processes below a process, found through /proc, and stopped together.

A command that a step runs per file may fork, start its own process group or session (ffmpeg's
helpers, `sh -c`'s background jobs, a daemon's `setsid`), and must still never outlive its file,
its worker or the run. A worker that runs commands marks itself a child subreaper, so a
descendant whose parent exits is re-parented to the worker, not to init: everything a command
started stays below the worker, where `descendants` finds it.
"""

from __future__ import annotations

import os
import signal
import time

#: prctl(2) option: orphaned descendants are re-parented to this process, not to init.
PR_SET_CHILD_SUBREAPER = 36
#: Scans while freezing a tree: a fork bomb cannot keep the kill busy for ever.
_FREEZE_ROUNDS = 50


def become_subreaper() -> bool:
    """Make this process the subreaper of its descendants (Linux 3.4 on); False where it cannot."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def children(pid: int) -> list[int]:
    """The direct children of `pid` (none if it is gone)."""
    if not _HAS_CHILDREN_FILES:
        return _children_by_scan(pid)
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    found: list[int] = []
    for thread in threads:
        try:
            with open(f"/proc/{pid}/task/{thread}/children", "rb") as handle:
                found.extend(map(int, handle.read().split()))
        except OSError:  # the thread ended meanwhile
            continue
    return found


def adopted_children() -> list[int]:
    """The children of this process's main thread: where the kernel re-parents the orphans of a
    subreaper (with those the main thread started itself). One file, where `children` reads one
    per thread."""
    if not _HAS_CHILDREN_FILES:
        return _children_by_scan(os.getpid())
    try:
        with open(f"/proc/self/task/{os.getpid()}/children", "rb") as handle:
            return list(map(int, handle.read().split()))
    except OSError:
        return []


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, parents before their children."""
    found: list[int] = []
    seen = {pid}
    queue = [pid]
    while queue:
        for child in children(queue.pop()):
            if child not in seen:
                seen.add(child)
                found.append(child)
                queue.append(child)
    return found


def kill_tree(pid: int, *, include_root: bool = True) -> set[int]:
    """SIGKILL every process below `pid` (and `pid` itself when `include_root`); return the
    processes signalled. Each is first frozen with SIGSTOP as the scan finds it, so that none
    can start another behind the scan; then all are killed at once."""
    frozen: set[int] = set()
    if include_root:
        _signal(pid, signal.SIGSTOP)
        frozen.add(pid)
    for _ in range(_FREEZE_ROUNDS):
        new = [child for child in descendants(pid) if child not in frozen]
        if not new:
            break
        for child in new:
            _signal(child, signal.SIGSTOP)
        frozen.update(new)
    for member in frozen:
        _signal(member, signal.SIGKILL)
    return frozen


def reap(pids, timeout: float = 1.0) -> None:
    """Collect the exit status of those of `pids` that are (or become, once their parents die)
    children of this process, so no zombie is left; give up on the rest after `timeout`."""
    pending = set(pids)
    deadline = time.monotonic() + timeout
    while pending:
        for pid in list(pending):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:  # not ours: gone, or not re-parented to us yet
                done = pid if not os.path.exists(f"/proc/{pid}") or _parent(pid) not in pending else 0
            if done:
                pending.discard(pid)
        if not pending or time.monotonic() > deadline:
            return
        time.sleep(0.001)


def death_cause(exitcode: int | None) -> str:
    """Why a worker process ended, in words, from its exit code."""
    if exitcode is not None and exitcode < 0:
        try:
            return f"worker died: {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"worker died: signal {-exitcode}"
    return f"worker died: exit code {exitcode}"


def kill_process(process) -> None:
    """Kill a worker and every process below it: a command it runs sits in a process group
    (or session) of its own, and would outlive a worker killed alone."""
    try:
        if process.exitcode is None:
            kill_tree(process.pid)
        process.kill()
    except (OSError, AttributeError, ValueError):
        pass


def _parent(pid: int) -> int | None:
    stat = _stat(pid)
    return int(stat[1]) if stat else None


def _stat(pid: int) -> list[bytes] | None:
    """The fields of /proc/PID/stat after the command name (state, ppid, pgrp, session...)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    return data[data.rfind(b")") + 2:].split()


def _children_by_scan(pid: int) -> list[int]:
    # Kernels built without CONFIG_PROC_CHILDREN: every process's parent, read from its stat.
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            stat = _stat(int(name))
            if stat and int(stat[1]) == pid:
                found.append(int(name))
    return found


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


_HAS_CHILDREN_FILES = os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children")
