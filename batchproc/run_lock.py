"""No two runs write to one output folder at once, whoever starts them.

The lock is an `flock` on the output folder itself (opened read-only: no file is added to the
tree), so a run of another user who can read the folder sees it too, and the kernel drops it
when its holder dies, however it dies. Where the folder cannot be locked that way (NFS, where
`flock` becomes a POSIX lock that needs a file open for writing), a lock file in the state
folder takes its place: it keeps out runs of the same user on machines sharing that state
folder, not other users' runs.
"""

from __future__ import annotations

import errno
import fcntl
import os

from batchproc.errors import BatchprocError, RunLockedError

#: flock errors that mean "this file system cannot lock this way", not "someone holds it".
_CANNOT_LOCK = (errno.EBADF, errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL)


class RunLock:
    """An exclusive lock on one output folder, held while a run writes there."""

    def __init__(self, root: str, fallback: str | None = None) -> None:
        self.root = root
        #: The lock file to use where the folder itself cannot be locked.
        self.fallback = fallback
        self._fd: int | None = None
        #: The folder's stat when it was locked: which folder the lock is on.
        self._identity: os.stat_result | None = None

    def acquire(self) -> None:
        try:
            os.makedirs(self.root, exist_ok=True)
            fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
            identity = os.fstat(fd)
        except OSError as error:
            raise BatchprocError(f"cannot write to {self.root}: {error.strerror or error}") from None
        self._fd = self._lock(fd)
        self._identity = identity

    def _lock(self, fd: int) -> int:
        """Lock the folder open as `fd` (or the fallback file); `fd` is closed unless returned."""
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            message = self._held_message(fd)
            os.close(fd)
            raise RunLockedError(message) from None
        except OSError as error:
            os.close(fd)
            if error.errno not in _CANNOT_LOCK or self.fallback is None:
                raise BatchprocError(f"cannot lock {self.root}: {error.strerror}") from None
        # A network file system: lock a file of ours instead.
        os.makedirs(os.path.dirname(self.fallback), exist_ok=True)
        fd = os.open(self.fallback, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
            os.close(fd)
            raise RunLockedError(self._message(int(holder) if holder.isdigit() else None)) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return fd

    def _held_message(self, fd: int) -> str:
        info = os.fstat(fd)
        return self._message(_flock_holder(info.st_dev, info.st_ino))

    def _message(self, pid: int | None) -> str:
        who = f"another batchproc run (pid {pid})" if pid else "another batchproc run"
        return f"{who} is writing to {self.root}"

    def still_held(self) -> bool:
        """False once the locked folder is gone, or another folder has taken its name (a lock
        on a folder that was removed keeps out no one)."""
        if self._fd is None or self._identity is None:
            return False
        try:
            return os.path.samestat(self._identity, os.stat(self.root))
        except OSError:
            return False

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _flock_holder(device: int, inode: int) -> int | None:
    """The process holding an flock on this file, from /proc/locks (Linux), if it can be told."""
    wanted = f"{os.major(device):02x}:{os.minor(device):02x}:{inode}"
    try:
        with open("/proc/locks") as handle:
            for line in handle:
                fields = line.split()
                # "1: FLOCK  ADVISORY  WRITE 12345 08:01:6553 0 EOF" (a waiter's line has "->")
                if len(fields) >= 6 and fields[1] == "FLOCK" and fields[2] != "->":
                    if fields[5].lower() == wanted.lower() and fields[4].isdigit():
                        return int(fields[4])
    except OSError:
        pass
    return None
