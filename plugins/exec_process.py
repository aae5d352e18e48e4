"""Running one command for one file, in a worker: spawned straight, in a session of its own,
its output read as it comes, stopped at the deadline, and nothing it started left running.

`os.posix_spawn` (glibc's is a vfork-style clone) starts the program with no copy of the
worker's memory and none of Popen's bookkeeping; the worker's own descriptors are all
close-on-exec (`seal_descriptors`), so the command inherits only the three it is given. Its own
session (and so its own process group) keeps Ctrl-C at the terminal from reaching it: files in
flight finish, as batchproc promises. What it leaves behind is killed when it exits: its
process group, and whatever escaped that group into a session of its own and was re-parented to
the worker (a child subreaper: batchproc.process_tree).
"""

from __future__ import annotations

import errno
import os
import select
import shutil
import signal
import threading
import time
from typing import NamedTuple

from batchproc.process_tree import adopted_children, become_subreaper, kill_tree, reap

#: Bytes of a command's stderr kept for its record (the end), and for --show-stderr.
STDERR_KEPT, STDERR_SHOWN = 4096, 1 << 20
#: Bytes of a command's stdout kept for its record (the beginning).
STDOUT_KEPT = 64 << 10
_READ = 65536

# Commands running in this process (a Dask worker may run one per thread): only what is not one
# of them, and sits in a session of its own, is a leftover to kill when a command ends.
_running: set[int] = set()
_running_lock = threading.Lock()


class Finished(NamedTuple):
    """How a command ended and what it said."""

    #: Its exit status, or None if a signal ended it.
    status: int | None
    #: The signal that ended it ("SIGSEGV"), if one did.
    signal: str | None
    #: It ran past its deadline and was killed, with everything it started.
    timed_out: bool
    stdout: bytes
    stderr: bytes
    #: Bytes of stdout and stderr that were not kept.
    stdout_dropped: int
    stderr_dropped: int


class CommandRunner:
    """Spawns commands for one worker: the pieces every command shares are made once."""

    def __init__(self) -> None:
        self._devnull = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
        self._programs: dict[str, str | None] = {}
        self._session = os.getsid(0)
        self._pidfds = hasattr(os, "pidfd_open")
        # The environment, encoded once: handing posix_spawn os.environ would decode and encode
        # every variable again for every command (tens of microseconds each time).
        self._environment = dict(os.environb)

    def prepare(self) -> None:
        """Once per worker: catch orphaned descendants, and let commands inherit nothing."""
        become_subreaper()
        seal_descriptors()

    def resolve(self, program: str) -> str | None:
        """The file `program` names: itself if it holds a / (posix_spawn says why it cannot
        run, if it cannot), else the first on PATH (remembered)."""
        if "/" in program:
            return program
        if program not in self._programs:
            self._programs[program] = shutil.which(program)
        return self._programs[program]

    def run(self, argv: list[str], *, stdin: str | None = None, stdout_fd: int | None = None,
            deadline: float | None = None, keep_stderr: int = STDERR_KEPT) -> Finished:
        """Run `argv` to its end (or its deadline, a time.monotonic() value). Its stdin is
        /dev/null, or the file `stdin`; its stdout goes to `stdout_fd` or is read and kept;
        its stderr is read and kept (the last `keep_stderr` bytes). Raises OSError when the
        program cannot be started."""
        path = self.resolve(argv[0])
        if path is None:
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), argv[0])
        stdin_fd = self._devnull if stdin is None else os.open(stdin, os.O_RDONLY | os.O_CLOEXEC)
        pipes = []
        try:
            err_read, err_write = os.pipe2(os.O_CLOEXEC)
            pipes += [err_read, err_write]
            if stdout_fd is None:
                out_read, out_write = os.pipe2(os.O_CLOEXEC)
                pipes += [out_read, out_write]
            else:
                out_read, out_write = None, stdout_fd
            with _running_lock:
                pid = os.posix_spawn(path, argv, self._environment, setsid=True, file_actions=[
                    (os.POSIX_SPAWN_DUP2, stdin_fd, 0), (os.POSIX_SPAWN_DUP2, out_write, 1),
                    (os.POSIX_SPAWN_DUP2, err_write, 2)])
                _running.add(pid)
            os.close(err_write)
            pipes.remove(err_write)
            if out_read is not None:
                os.close(out_write)
                pipes.remove(out_write)
            return self._wait(pid, out_read, err_read, deadline, keep_stderr)
        finally:
            if stdin_fd != self._devnull:
                os.close(stdin_fd)
            for fd in pipes:
                os.close(fd)

    def _wait(self, pid, out_read, err_read, deadline, keep_stderr) -> Finished:
        out = _Kept(STDOUT_KEPT, head=True)
        err = _Kept(keep_stderr, head=False)
        streams = {err_read: err}
        if out_read is not None:
            streams[out_read] = out
        exited = self._pidfd(pid)
        poller = select.poll()
        for fd in streams:
            poller.register(fd, select.POLLIN)
        if exited is not None:
            poller.register(exited, select.POLLIN)
        timed_out = False
        try:
            while True:
                if exited is None and _has_exited(pid):
                    break
                wait_ms = None if exited is not None else 10  # without a pidfd: look every 10 ms
                if deadline is not None:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        timed_out = True
                        break
                    wait_ms = min(wait_ms or 1 << 30, int(left * 1000) + 1)
                events = poller.poll(wait_ms)
                if any(fd == exited for fd, _ in events):
                    break
                for fd, _ in events:
                    if not streams[fd].read(fd):
                        poller.unregister(fd)
        finally:
            if exited is not None:
                os.close(exited)
        # It has exited (not reaped yet, so its process group's number is still its own), or
        # its time is up: stop everything it started either way.
        killed = kill_tree(pid) if timed_out else set()
        _signal_group(pid)
        killed |= self._kill_leftovers(pid)
        _, status = os.waitpid(pid, 0)
        with _running_lock:
            _running.discard(pid)
        reap(killed - {pid})
        for fd, kept in streams.items():  # what is left in the pipes, its writers all gone
            os.set_blocking(fd, False)
            while kept.read(fd):
                pass
        code = os.waitstatus_to_exitcode(status)
        return Finished(None if code < 0 else code, _signal_name(-code) if code < 0 else None,
                        timed_out, out.bytes(), err.bytes(), out.dropped, err.dropped)

    def _pidfd(self, pid: int) -> int | None:
        """A descriptor that becomes readable when `pid` exits (Linux 5.3 on), or None."""
        if self._pidfds:
            try:
                return os.pidfd_open(pid)
            except OSError:
                self._pidfds = False
        return None

    def _kill_leftovers(self, pid: int) -> set[int]:
        """Kill what a command left behind in a session of its own, re-parented to this worker
        (to its main thread, whichever thread started the command)."""
        killed: set[int] = set()
        for child in adopted_children():
            if child == pid or child in _running:
                continue
            try:
                if os.getsid(child) == self._session:
                    continue  # not a command's: sessions of their own are what commands make
            except OSError:
                continue
            killed |= kill_tree(child)
        return killed


class _Kept:
    """What is read from one stream, within a budget: its beginning or its end."""

    def __init__(self, budget: int, *, head: bool) -> None:
        self.budget = budget
        self.head = head
        self.chunks: list[bytes] = []
        self.size = 0
        self.dropped = 0

    def read(self, fd: int) -> bool:
        """Read what is there; False at end of file (or when nothing is left to read now)."""
        try:
            data = os.read(fd, _READ)
        except BlockingIOError:
            return False
        if not data:
            return False
        self.chunks.append(data)
        self.size += len(data)
        if self.size > 2 * self.budget:
            self._trim()
        return True

    def _trim(self) -> None:
        data = b"".join(self.chunks)
        kept = data[:self.budget] if self.head else data[-self.budget:]
        self.dropped += len(data) - len(kept)
        self.chunks, self.size = [kept], len(kept)

    def bytes(self) -> bytes:
        if self.size > self.budget:
            self._trim()
        return b"".join(self.chunks)


def find_program(program: str) -> str | None:
    """The executable file `program` names: itself if it holds a /, else the first on PATH."""
    if "/" in program:
        return program if os.access(program, os.X_OK) and not os.path.isdir(program) else None
    return shutil.which(program)


def seal_descriptors() -> None:
    """Mark every descriptor of this process above stderr close-on-exec: commands spawned from
    it inherit only their stdin, stdout and stderr (what Popen's close_fds does per spawn)."""
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return
    for name in names:
        fd = int(name)
        if fd > 2:
            try:
                os.set_inheritable(fd, False)
            except OSError:  # the listing's own descriptor, closed by now
                pass


def _has_exited(pid: int) -> bool:
    """True once `pid` has exited, without reaping it (where no pidfd can say so)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _signal_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
