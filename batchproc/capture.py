"""What libraries say while a worker processes a file (Python warnings, log records, and C-level
writes to stderr such as libtiff's) is gathered into that file's record, never printed in the
middle of the progress bar, unattributed."""

from __future__ import annotations

import logging
import os
import sys
import warnings

#: At most this many lines per file, each at most this long: a chatty library cannot bloat the log.
MAX_LINES, MAX_LENGTH = 20, 300


class Capture:
    """Installed once in a worker process; `take()` returns and forgets what was said since."""

    def __init__(self, *, stderr: bool = True) -> None:
        self._lines: list[str] = []
        warnings.simplefilter("always")  # every file hears its own warnings, not only the first
        warnings.showwarning = self._on_warning
        handler = _Collector(self._lines)
        root = logging.getLogger()
        root.addHandler(handler)
        self._fd = self._redirect_stderr() if stderr else None

    def take(self) -> list[str]:
        """The lines said since the last call, deduplicated, in order."""
        if self._fd is not None:
            self._read_stderr()
        if not self._lines:
            return []
        lines, seen = [], set()
        for line in self._lines:
            line = line.strip()[:MAX_LENGTH]
            if line and line not in seen:
                seen.add(line)
                lines.append(line)
        self._lines.clear()
        return lines[:MAX_LINES]

    def _on_warning(self, message, category, filename, lineno, file=None, line=None) -> None:
        self._lines.append(str(message))

    @staticmethod
    def _redirect_stderr() -> int | None:
        try:
            fd = os.memfd_create("batchproc-stderr", os.MFD_CLOEXEC)
        except (AttributeError, OSError):
            return None
        sys.stderr.flush()
        os.dup2(fd, 2)
        return fd

    def _read_stderr(self) -> None:
        try:
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        size = os.lseek(2, 0, os.SEEK_CUR)
        if size <= 0:
            return
        data = os.pread(self._fd, min(size, 64 * 1024), 0)
        os.ftruncate(self._fd, 0)
        os.lseek(2, 0, os.SEEK_SET)
        self._lines.extend(data.decode("utf-8", "replace").splitlines())


class _Collector(logging.Handler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(record.getMessage())
        except Exception:  # a record that cannot be formatted says nothing
            pass
