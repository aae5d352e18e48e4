"""What goes to stdout: machine-readable results only (JSON Lines, NUL-separated paths, or a
step's own lines such as checksum's manifest). Everything else goes to stderr."""

from __future__ import annotations

import io
import sys
import time

from batchproc.results import OK, PLANNED, SKIPPED, FileResult, json_line


class StdoutWriter:
    """Writes one record per finished file in the format the user chose."""

    def __init__(self, step, *, json_lines: bool = False, print0: bool = False, dry_run: bool = False,
                 stream=None, flush_each: bool = False) -> None:
        """`flush_each`: every record reaches stdout at once (a watch, where the next record
        may be hours away)."""
        self.step = step
        self.json_lines = json_lines
        self.print0 = print0
        self.dry_run = dry_run
        self.stream = stream or sys.stdout
        self._last_write = 0.0
        self._interactive = self.stream.isatty() or flush_each
        self._out = _binary(self.stream)

    def write(self, result: FileResult) -> None:
        if self.json_lines:
            self._emit(json_line(result.to_dict()) + "\n")
        elif self.dry_run:
            line = self.step.plan_line(result.view()) if result.status == PLANNED else None
            self._emit((line if line is not None else _plan_line(result)) + "\n")
        elif self.print0:
            if result.status in (OK, PLANNED) and result.output:
                outputs = result.output if isinstance(result.output, list) else [result.output]
                self._emit("".join(f"{path}\0" for path in outputs))
        else:
            line = self.step.stdout_line(result.view())
            if line is not None:
                self._emit(line + "\n")

    def _emit(self, text: str) -> None:
        if self._out is None:  # a text-only stream (tests capture stdout this way)
            self.stream.write(text)
            return
        # File names may hold bytes that are not UTF-8: write them back as the same bytes.
        self._out.write(text.encode("utf-8", "surrogateescape"))
        # A burst of results (checksum over small files) fills the buffer before it is written:
        # one system call per 64 KB, not per line. A record that comes after a pause, or any
        # record on a terminal, is flushed at once so `| jq` sees it as it happens.
        now = time.monotonic()
        if self._interactive or now - self._last_write > 0.05:
            self._out.flush()
        self._last_write = now

    def flush(self) -> None:
        if self._out is not None:
            self._out.flush()
        else:
            self.stream.flush()


def _binary(stream):
    """Our own buffered binary writer on stdout's file descriptor (PYTHONUNBUFFERED or not)."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return None
    stream.flush()
    return io.BufferedWriter(io.FileIO(fd, "wb", closefd=False), buffer_size=1 << 16)


def _plan_line(result: FileResult) -> str:
    """A --dry-run line: `process IN -> OUT`, `skip IN (reason)` or `fail IN (reason)`."""
    if result.status == PLANNED:
        output = result.output if not isinstance(result.output, list) else ", ".join(result.output)
        return f"process {result.input}" + (f" -> {output}" if output else "")
    verb = "skip" if result.status == SKIPPED else "fail"
    return f"{verb} {result.input} ({result.error})"

