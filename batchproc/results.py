"""Result records (one per file) and the run summary built from them."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from batchproc.task import Task
from typing import Any

OK, SKIPPED, FAILED = "ok", "skipped", "failed"
#: The status of every file a --dry-run would process.
PLANNED = "planned"


@dataclass(slots=True)
class FileResult:
    """What became of one file. `error` holds a failure's text or a skip's reason."""

    status: str
    input: str
    output: str | list[str] | None = None
    bytes_in: int | None = None
    bytes_out: int | None = None
    ms: float | None = None
    error: str | None = None
    #: Step-specific fields (width, height, digest...), flattened into the JSON record.
    extra: dict[str, Any] = field(default_factory=dict)
    #: The sequence number of the task, for matching results to work in flight; not logged.
    seq: int = -1
    #: The input's (size, mtime_ns) as processed, for incremental runs; not logged.
    fingerprint: tuple[int, int] | None = None
    #: The output's mtime after writing; not logged.
    output_mtime_ns: int | None = None

    def to_dict(self) -> dict[str, Any]:
        record = {
            "status": self.status,
            "input": self.input,
            "output": self.output,
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "ms": None if self.ms is None else round(self.ms, 1),
            "error": self.error,
        }
        for key, value in self.extra.items():
            record.setdefault(key, value)
        return record

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)


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
        if result.status == OK:
            self.bytes_in += result.bytes_in or 0
            self.bytes_out += result.bytes_out or 0
        elif result.status == SKIPPED:
            self.skip_reasons[_reason_kind(result.error or "")] += 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def failed(self) -> int:
        return self.counts[FAILED]


def _reason_kind(reason: str) -> str:
    """Group skip reasons for the summary: 'not an image (.txt)' -> 'not an image'."""
    return reason.split(" (", 1)[0].split(":", 1)[0]
