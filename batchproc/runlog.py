"""The run log: one JSON line per file, appended, never torn or interleaved."""

from __future__ import annotations

import fcntl
import threading
import os
from typing import Any

from batchproc.results import json_line


class RunLog:
    """Appends JSON Lines records to a file.

    Only the parent process writes (workers send their results to it), so a worker killed at any
    moment can never hold the lock. A thread lock serialises the parent's own writers; `flock`
    keeps two batchproc processes that share one log file from interleaving.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._lock = threading.Lock()

    def write(self, record: dict[str, Any]) -> None:
        self.write_lines((json_line(record) + "\n").encode("utf-8"))

    def write_lines(self, data: bytes) -> None:
        """Append whole lines (a worker renders those of a batch of files), in one locked write."""
        if not data:
            return
        with self._lock:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                view = memoryview(data)
                while view:  # one write() in practice; the loop covers a short write
                    written = os.write(self._fd, view)
                    view = view[written:]
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def reopen(self) -> None:
        """Append to a new file at the same path from now on (after logrotate moved the old one)."""
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        with self._lock:
            old, self._fd = self._fd, fd
        if old >= 0:
            os.close(old)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
