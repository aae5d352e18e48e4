"""What a run's page counts, fed one result at a time: the summary, histograms of per-file times
and output/input size ratios, the slowest files, the files that grew and the failures by reason.
Everything is a count or a short list, so memory stays flat however many files the run has."""

from __future__ import annotations

import heapq
import itertools
from bisect import bisect_right
from collections import Counter
from typing import NamedTuple

from batchproc.results import FAILED, OK, SKIPPED, FileResult, Summary, reason_kind

#: Per-file time bins, by their lower edge in milliseconds (1-2-5 steps, 10 µs to 100 s).
TIME_EDGES = [mantissa * 10.0 ** exponent for exponent in range(-2, 5) for mantissa in (1, 2, 5)] + [1e5]
#: Output/input size ratio bins, by their lower edge; 1.0 to 1.0000001 is "the same size".
RATIO_EDGES = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.0000001, 1.1, 1.25, 1.5, 2.0, 5.0]
#: How many of the slowest files, and of those that grew most, are named.
TOP = 10
#: Paths named per failure reason; reasons told apart (beyond: "other reasons").
PATHS_PER_REASON = 50
MAX_REASONS = 100
OTHER_REASONS = "other reasons"


class Row(NamedTuple):
    """A file named in a top list."""

    input: str
    output: str | list[str] | None
    ms: float | None
    bytes_in: int | None
    bytes_out: int | None
    status: str


class FailureGroup:
    """The files that failed for one reason: how many, and the first of them."""

    __slots__ = ("count", "paths")

    def __init__(self) -> None:
        self.count = 0
        self.paths: list[str] = []


class Counted:
    """The histograms and sums of a run's files: what a Tally keeps of each file, and, for a
    chunk a worker finished, what travels to the parent instead of each file's numbers."""

    __slots__ = ("time_bins", "ratio_bins", "bytes_in", "bytes_out", "written", "grew")

    def __init__(self) -> None:
        self.bytes_in = self.bytes_out = self.written = self.grew = 0
        self.time_bins = [0] * (len(TIME_EDGES) + 1)
        self.ratio_bins = [0] * (len(RATIO_EDGES) + 1)

    def add(self, result: FileResult) -> None:
        """Count a file that went ok."""
        self.count_time(result.ms)
        self.count_sizes(result.bytes_in, result.bytes_out)

    def count_time(self, ms: float | None) -> None:
        if ms is not None:
            self.time_bins[bisect_right(TIME_EDGES, ms)] += 1

    def count_sizes(self, size_in: int | None, size_out: int | None) -> bool:
        """Count the bytes a file that went ok read and wrote; True if its output is larger."""
        if size_in:
            self.bytes_in += size_in
        if size_out is None:
            return False
        self.written += 1
        self.bytes_out += size_out
        if not size_in:
            return False
        self.ratio_bins[bisect_right(RATIO_EDGES, size_out / size_in)] += 1
        if size_out > size_in:
            self.grew += 1
            return True
        return False

    def merge(self, other: "Counted") -> None:
        for bins, more in ((self.time_bins, other.time_bins), (self.ratio_bins, other.ratio_bins)):
            for index, count in enumerate(more):
                bins[index] += count
        self.bytes_in += other.bytes_in
        self.bytes_out += other.bytes_out
        self.written += other.written
        self.grew += other.grew


class Tally(Counted):
    """Running counts of one run (see the module docstring). `add` is called for every file,
    in the parent, so it does as little as it can."""

    def __init__(self) -> None:
        super().__init__()  # written: files processed with an output (checksum writes none)
        self.counts: dict = {}
        self.skip_reasons: dict[str, int] = {}
        self.failures: dict[str, FailureGroup] = {}
        #: Files by the engine their record names (resize: vips or pillow).
        self.engines: dict[str, int] = {}
        self._slowest: list = []  # min-heaps of (key, order, Row)
        self._slow_enough = -1.0  # the time a file must beat to join the slowest
        self._grown: list = []
        self._order = itertools.count()

    def add(self, result: FileResult) -> None:
        status = result.status
        counts = self.counts
        counts[status] = counts.get(status, 0) + 1
        ms = result.ms
        self.count_time(ms)
        if ms is not None and ms > self._slow_enough:
            self._slow(ms, result)
        if status is OK:
            if self.count_sizes(result.bytes_in, result.bytes_out):
                _keep(self._grown, result.bytes_out - result.bytes_in, next(self._order), result)
            data = result.data
            if data:
                engine = data.get("engine")
                if engine is not None:
                    self.engines[engine] = self.engines.get(engine, 0) + 1
        elif status is SKIPPED:
            reason = reason_kind(result.error or "")
            self.skip_reasons[reason] = self.skip_reasons.get(reason, 0) + 1
        elif status is FAILED:
            self._failed(result)

    def add_batch(self, batch) -> None:
        """Count a ResultBatch of files that went ok, sent with Rendering.tally: what its worker
        counted (Counted), and the records of its slowest files and of those that grew most."""
        self.counts[OK] = self.counts.get(OK, 0) + len(batch)
        self.merge(batch.counted)
        for result in batch.notable:
            if result.ms is not None and result.ms > self._slow_enough:
                self._slow(result.ms, result)
            if result.bytes_out is not None and result.bytes_in and result.bytes_out > result.bytes_in:
                _keep(self._grown, result.bytes_out - result.bytes_in, next(self._order), result)

    def _slow(self, ms: float, result: FileResult) -> None:
        _keep(self._slowest, ms, next(self._order), result)
        if len(self._slowest) == TOP:
            self._slow_enough = self._slowest[0][0]

    def _failed(self, result: FileResult) -> None:
        reason = failure_reason(result)
        group = self.failures.get(reason)
        if group is None:
            if len(self.failures) >= MAX_REASONS:
                reason = OTHER_REASONS
            group = self.failures.setdefault(reason, FailureGroup())
        group.count += 1
        if len(group.paths) < PATHS_PER_REASON:
            group.paths.append(result.input)

    @property
    def summary(self) -> Summary:
        """The counts as the terminal's summary line takes them (its elapsed time left at 0)."""
        return Summary(Counter(self.counts), Counter(self.skip_reasons), self.bytes_in, self.bytes_out)

    @property
    def slowest(self) -> list[Row]:
        """The slowest files, slowest first."""
        return [row for *_, row in sorted(self._slowest, reverse=True)]

    @property
    def grown(self) -> list[Row]:
        """The files that grew most (in bytes), most first."""
        return [row for *_, row in sorted(self._grown, reverse=True)]

    @property
    def failed(self) -> int:
        return self.counts.get(FAILED, 0)

    @property
    def processed(self) -> int:
        """Files the step ran on (ok or failed), as opposed to files skipped."""
        return self.counts.get(OK, 0) + self.counts.get(FAILED, 0)


def _keep(heap: list, key: float, order: int, result: FileResult) -> None:
    row = Row(result.input, result.output, result.ms, result.bytes_in, result.bytes_out, str(result.status))
    if len(heap) < TOP:
        heapq.heappush(heap, (key, order, row))
    elif key > heap[0][0]:
        heapq.heapreplace(heap, (key, order, row))


def failure_reason(result: FileResult) -> str:
    """A failure's text without the paths of its own file, so that files failing for the same
    reason group together: 'Permission denied: /out/a.jpg' -> 'Permission denied: the output'."""
    text = result.error or "no reason given"
    outputs = result.output if isinstance(result.output, list) else [result.output]
    for path, name in [*((output, "the output") for output in outputs if output), (result.input, "the input")]:
        if path in text:
            text = text.replace(path, name)
    return text
