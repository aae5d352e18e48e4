"""The run log: one JSON line per file, appended, never torn or interleaved."""

from __future__ import annotations

import fcntl
import threading
import os
from typing import Any

from batchproc.results import json_line


class RunLog:
    """Appends JSON Lines records to a file: the run's header first (batchproc.run_header),
    then one record per file carrying the run's id, and an end record.

    Only the parent process writes (workers send their results to it), so a worker killed at any
    moment can never hold the lock. A thread lock serialises the parent's own writers; `flock`
    keeps two batchproc processes that share one log file from interleaving.
    """

    def __init__(self, path: str, header: dict[str, Any] | None = None) -> None:
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._lock = threading.Lock()
        #: The run's id, and its job's name in a job file: written in each file's record.
        self.run = self.job = None
        self._header = header
        if header is not None:
            self.run, self.job = header["run"], header.get("job")
            self._append(header)

    def write(self, record: dict[str, Any]) -> None:
        """Append a file's record, with the run's id (and job)."""
        if self.run is not None:
            record["run"] = self.run
            if self.job is not None:
                record["job"] = self.job
        self._append(record)

    def write_lines(self, data: bytes) -> None:
        """Append whole lines (a worker renders those of a batch of files, run id included),
        in one locked write."""
        if data:
            with self._lock:
                _write(self._fd, data)

    def _append(self, record: dict[str, Any]) -> None:
        with self._lock:
            _write_line(self._fd, record)

    def reopen(self) -> None:
        """Append to a new file at the same path from now on (after logrotate moved the old one);
        the new file opens with the run's header again, so it can be read on its own."""
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        if self._header is not None:
            _write_line(fd, self._header)
        with self._lock:
            old, self._fd = self._fd, fd
        if old >= 0:
            os.close(old)

    def close(self, end: dict[str, Any] | None = None) -> None:
        """Close the log, after the run's `end` record if given."""
        if end is not None and self._fd >= 0:
            self._append(end)
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _write_line(fd: int, record: dict[str, Any]) -> None:
    """Append one record as one line."""
    _write(fd, (json_line(record) + "\n").encode("utf-8"))


def _write(fd: int, data: bytes) -> None:
    """Append whole lines under `flock` (other processes may share the file)."""
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        view = memoryview(data)
        while view:  # one write() in practice; the loop covers a short write
            written = os.write(fd, view)
            view = view[written:]
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
