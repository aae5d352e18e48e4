"""What goes to stdout: machine-readable results only (JSON Lines, NUL-separated paths, or a
step's own lines such as checksum's manifest). Everything else goes to stderr."""

from __future__ import annotations

import sys

from batchproc.results import OK, PLANNED, SKIPPED, FileResult


class StdoutWriter:
    """Writes one record per finished file in the format the user chose."""

    def __init__(self, step, *, json_lines: bool = False, print0: bool = False, dry_run: bool = False,
                 stream=None) -> None:
        self.step = step
        self.json_lines = json_lines
        self.print0 = print0
        self.dry_run = dry_run
        self.stream = stream or sys.stdout

    def write(self, result: FileResult) -> None:
        if self.json_lines:
            record = result.to_dict()
            record.pop("traceback", None)
            self._emit(_json(record) + "\n")
        elif self.dry_run:
            self._emit(_plan_line(result) + "\n")
        elif self.print0:
            if result.status in (OK, PLANNED) and result.output:
                outputs = result.output if isinstance(result.output, list) else [result.output]
                self._emit("".join(f"{path}\0" for path in outputs))
        else:
            line = self.step.stdout_line(result)
            if line is not None:
                self._emit(line + "\n")

    def _emit(self, text: str) -> None:
        # File names may hold bytes that are not UTF-8: write them back as the same bytes.
        buffer = getattr(self.stream, "buffer", None)
        if buffer is not None:
            self.stream.flush()
            buffer.write(text.encode("utf-8", "surrogateescape"))
            buffer.flush()
        else:
            self.stream.write(text)


def _plan_line(result: FileResult) -> str:
    """A --dry-run line: `process IN -> OUT`, `skip IN (reason)` or `fail IN (reason)`."""
    if result.status == PLANNED:
        output = result.output if not isinstance(result.output, list) else ", ".join(result.output)
        return f"process {result.input}" + (f" -> {output}" if output else "")
    verb = "skip" if result.status == SKIPPED else "fail"
    return f"{verb} {result.input} ({result.error})"


def _json(record: dict) -> str:
    import json

    return json.dumps(record, ensure_ascii=False).encode("utf-8", "backslashreplace").decode("utf-8")
