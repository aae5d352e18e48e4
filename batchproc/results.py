"""Result records (one per file), the read-only view steps get of them, and the run summary."""

from __future__ import annotations

import enum
import json
from collections import Counter
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping, NamedTuple

from batchproc.task import Task


class Status(str, enum.Enum):
    """What became of one file."""

    #: Processed: its outputs are in place.
    OK = "ok"
    #: Not processed, for a reason (up to date, not accepted by the step, not started...).
    SKIPPED = "skipped"
    #: Processing failed; `error` says why.
    FAILED = "failed"
    #: --dry-run: would be processed.
    PLANNED = "planned"
    #: --watch: the input was deleted (with --mirror-deletes, its outputs too).
    DELETED = "deleted"

    __str__ = str.__str__
    __format__ = str.__format__
    __hash__ = str.__hash__  # counts["ok"] finds counts[Status.OK]


OK, SKIPPED, FAILED, PLANNED, DELETED = (Status.OK, Status.SKIPPED, Status.FAILED, Status.PLANNED,
                                         Status.DELETED)


@dataclass(slots=True)
class FileResult:
    """What became of one file. `error` holds a failure's text or a skip's reason."""

    status: Status
    input: str
    output: str | list[str] | None = None
    bytes_in: int | None = None
    bytes_out: int | None = None
    ms: float | None = None
    error: str | None = None
    #: The step's own fields (width, height, digest...), flattened into the JSON record.
    data: dict[str, Any] = field(default_factory=dict)
    #: What libraries warned about while processing this file (one line each).
    warnings: list[str] = field(default_factory=list)
    # The engine's bookkeeping below is never part of the step's data.
    #: The failure may be transient (an I/O error, a crash): --retries may try again.
    retryable: bool = False
    #: Why no later file can succeed either (a full or read-only disk, a command the shell
    #: cannot find), or None: the run stops after the files in flight, with exit code 4.
    stops_run: str | None = None
    #: Failed in a way that should not be tried again until the file changes (kills workers).
    quarantined: bool = False
    #: Failed because the input changed while it was processed (or since it settled, under
    #: --watch, which then takes it again once it settles).
    input_changed: bool = False
    #: The traceback of an unexpected error: written to --log only.
    traceback: str | None = None
    #: The sequence number of the task, for matching results to work in flight; not logged.
    seq: int = -1
    #: The input's (size, mtime_ns) as processed, for incremental runs; not logged.
    fingerprint: tuple[int, int] | None = None
    #: The output's mtime after writing; not logged.
    output_mtime_ns: int | None = None
    #: Thumbnails of the input and the output (batchproc.previews.Preview, either may be None)
    #: when --report asks image steps for them; not logged.
    previews: tuple | None = None

    def to_dict(self, *, traceback: bool = False) -> dict[str, Any]:
        """The record as --json and --log show it (the traceback only where asked: the log)."""
        record = {
            "status": self.status.value,
            "input": self.input,
            "output": self.output,
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "ms": None if self.ms is None else round(self.ms, 1),
            "error": self.error,
        }
        if self.warnings:
            record["warnings"] = self.warnings
        for key, value in self.data.items():
            record.setdefault(key, value)
        if traceback and self.traceback:
            record["traceback"] = self.traceback
        return record

    def view(self) -> "FinishedFile":
        return FinishedFile(self.status, self.input, self.output, self.error,
                            MappingProxyType(self.data), self.bytes_in, self.bytes_out, self.ms)


class FinishedFile(NamedTuple):
    """A finished file as a step's `stdout_line` sees it (read-only)."""

    #: ok, skipped or failed, or deleted under --watch (a Status, equal to its string).
    status: Status
    #: The input path as the user gave it.
    input: str
    #: The output path, a list of several, or None.
    output: str | list[str] | None
    #: A failure's text or a skip's reason, else None.
    error: str | None
    #: What the step's `process` returned.
    data: Mapping[str, Any]
    bytes_in: int | None
    bytes_out: int | None
    ms: float | None


def json_line(record: dict[str, Any]) -> str:
    """One JSON line (no newline) for a record. File names that are not UTF-8 (surrogate
    escapes) come out as \\udcXX escapes, so the line is always valid UTF-8 and valid JSON."""
    text = json.dumps(record, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def skipped(path: str, reason: str, output: str | list[str] | None = None) -> FileResult:
    return FileResult(SKIPPED, path, output=output, error=reason)


def not_started(task: Task, why: str | None) -> FileResult:
    """The record of a file an executor never began, because the run was stopped."""
    return FileResult(SKIPPED, task.source, output=task.output,
                      error=f"not started ({why or 'interrupted'})", seq=task.seq)


def failed(path: str, error: str, output: str | list[str] | None = None, seq: int = -1) -> FileResult:
    return FileResult(FAILED, path, output=output, error=error, seq=seq)


@dataclass
class Summary:
    """Counts and totals of a run, updated as results arrive."""

    counts: Counter = field(default_factory=Counter)
    skip_reasons: Counter = field(default_factory=Counter)
    bytes_in: int = 0
    bytes_out: int = 0
    elapsed: float = 0.0
    #: Why the run stopped before the end, if it did ("interrupted", "failure budget", ...).
    stopped: str | None = None
    #: The exit code that stop stands for.
    stop_code: int | None = None
    #: Things the user should know that are not about one file (state could not be saved...).
    warnings: list[str] = field(default_factory=list)

    def add(self, result: FileResult) -> None:
        self.counts[result.status] += 1
        if result.status is OK:
            self.bytes_in += result.bytes_in or 0
            self.bytes_out += result.bytes_out or 0
        elif result.status is SKIPPED:
            self.skip_reasons[reason_kind(result.error or "")] += 1

    def add_batch(self, batch) -> None:
        """Count a ResultBatch: files that all went ok."""
        self.counts[OK] += len(batch)
        self.bytes_in += batch.bytes_in
        self.bytes_out += batch.bytes_out

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def failed(self) -> int:
        return self.counts[FAILED]


def reason_kind(reason: str) -> str:
    """Group skip reasons for the summary: 'not an image (.txt)' -> 'not an image'."""
    return reason.split(" (", 1)[0].split(":", 1)[0]
