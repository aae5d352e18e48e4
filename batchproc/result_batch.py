"""Results of many files that went well, in columns: what a local worker sends back per chunk.

Thousands of small files a second (checksum) would cost the parent more in result objects than
the workers spend hashing: unpickling a record, updating the summary, the state, the log and
stdout, file by file. Files that went plainly (ok, nothing for stderr) travel instead as a few
arrays and, rendered by the worker, their stdout text and log lines. Failures, skips and
anything else the parent must act on still travel as one FileResult each.
"""

from __future__ import annotations

import heapq
from array import array
from typing import NamedTuple

from batchproc.results import FileResult, json_line

#: A value the int64 columns hold for None (an output's mtime when there is no output).
NONE = -1


class Rendering(NamedTuple):
    """What a worker writes out for the parent, as the run's options ask."""

    #: stdout's format: "json" (a JSON line per file), "print0" (NUL-separated output paths),
    #: or "lines" (the step's own stdout_line, if it has one).
    stdout: str = "lines"
    #: Render --log's JSON lines too, with these fields added (the run's id, and its job's name).
    log: bool = False
    log_fields: tuple[tuple[str, str], ...] = ()
    #: Keep every record whole (pickled), for callers that take results one by one.
    records: bool = False
    #: A run report counts these files (--report): the worker counts them into the report's
    #: histograms and sums (batchproc.report.tally), and keeps the chunk's slowest files and
    #: those that grew most whole.
    tally: bool = False


class ResultBatch:
    """Files one worker finished ok, in order of completion, as columns."""

    __slots__ = ("seqs", "sizes", "mtimes", "written", "output_mtimes", "bytes_in", "bytes_out", "ms",
                 "stdout", "log", "_records", "counted", "notable")

    def __init__(self) -> None:
        self.seqs = array("q")
        #: The input's (size, mtime_ns) as processed, for incremental state.
        self.sizes, self.mtimes = array("q"), array("q")
        #: Bytes written and the oldest output's mtime per file (NONE when the step writes no file).
        self.written, self.output_mtimes = array("q"), array("q")
        self.bytes_in = self.bytes_out = 0
        #: Milliseconds the files took, in all.
        self.ms = 0.0
        #: The stdout text of these files and their --log lines, UTF-8 (odd bytes of names kept).
        self.stdout = self.log = b""
        #: The records themselves, pickled, when the run's Rendering asks for them.
        self._records: bytes | None = None
        #: For a run report (Rendering.tally): the files counted as its Tally counts them
        #: (batchproc.report.tally.Counted), and the records of the chunk's slowest files and of
        #: those that grew most (the run's top files are among the chunks' top files).
        self.counted = None
        self.notable: list[FileResult] = []

    def __getstate__(self):
        return tuple(getattr(self, name) for name in self.__slots__)

    def __setstate__(self, state) -> None:
        for name, value in zip(self.__slots__, state):
            setattr(self, name, value)

    def __len__(self) -> int:
        return len(self.seqs)

    @property
    def has_records(self) -> bool:
        return self._records is not None

    def records(self) -> list[FileResult]:
        """The FileResult of every file (only when the worker was asked to keep them)."""
        if self._records is None:
            raise RuntimeError("this batch was sent without its records (Rendering.records)")
        import pickle

        return pickle.loads(self._records)


class BatchBuilder:
    """Collects the results of a chunk in a worker: plain ones into a ResultBatch, the rest aside."""

    def __init__(self, step, rendering: Rendering | None) -> None:
        self.step = step
        self.rendering = rendering
        from batchproc.step import Step

        self._lines = rendering is not None and rendering.stdout == "lines" \
            and type(step).stdout_line is not Step.stdout_line
        self._stderr = type(step).stderr_lines is not Step.stderr_lines
        self.clear()

    def clear(self) -> None:
        self.batch = ResultBatch()
        self.others: list[FileResult] = []
        self._stdout: list[str] = []
        self._log: list[str] = []
        self._kept: list[FileResult] = []
        self._slowest: list = []  # min-heaps of (key, order, result), TOP at most
        self._grown: list = []
        if self.rendering is not None and self.rendering.tally:
            from batchproc.report.tally import Counted

            self._counted = Counted()

    def add(self, result: FileResult) -> None:
        rendering = self.rendering
        if rendering is None or result.status != "ok" or result.fingerprint is None \
                or (self._stderr and self.step.stderr_lines(result.view())):
            self.others.append(result)
            return
        batch = self.batch
        batch.seqs.append(result.seq)
        batch.sizes.append(result.fingerprint[0])
        batch.mtimes.append(result.fingerprint[1])
        batch.written.append(NONE if result.bytes_out is None else result.bytes_out)
        batch.output_mtimes.append(NONE if result.output_mtime_ns is None else result.output_mtime_ns)
        batch.bytes_in += result.bytes_in or 0
        batch.bytes_out += result.bytes_out or 0
        batch.ms += result.ms or 0.0
        if rendering.stdout == "json":
            self._stdout.append(json_line(result.to_dict()) + "\n")
        elif rendering.stdout == "print0":
            if result.output:
                outputs = result.output if isinstance(result.output, list) else [result.output]
                self._stdout.append("".join(f"{path}\0" for path in outputs))
        elif self._lines:
            line = self.step.stdout_line(result.view())
            if line is not None:
                self._stdout.append(line + "\n")
        if rendering.log:
            record = result.to_dict(traceback=True)
            record.update(rendering.log_fields)
            self._log.append(json_line(record) + "\n")
        if rendering.records:
            self._kept.append(result)
        if rendering.tally:
            self._count(result)

    def _count(self, result: FileResult) -> None:
        """Count the file into the report's histograms; keep it if it is among the chunk's
        slowest, or of those that grew most."""
        self._counted.add(result)
        order = len(self.batch)
        ms, size_in, size_out = result.ms, result.bytes_in, result.bytes_out
        if ms is not None:
            _keep(self._slowest, ms, order, result)
        if size_out is not None and size_in and size_out > size_in:
            _keep(self._grown, size_out - size_in, order, result)

    def take(self) -> tuple[ResultBatch | None, list[FileResult]]:
        """The batch so far (None if empty) and the other results; starts afresh."""
        batch, others = self.batch, self.others
        if len(batch):
            # File names may hold bytes that are not UTF-8: they go out as the same bytes.
            batch.stdout = "".join(self._stdout).encode("utf-8", "surrogateescape")
            batch.log = "".join(self._log).encode("utf-8")
            if self.rendering.tally:
                kept = {order: result for heap in (self._slowest, self._grown) for _, order, result in heap}
                batch.counted, batch.notable = self._counted, list(kept.values())
            if self.rendering.records:
                import pickle

                batch._records = pickle.dumps(self._kept, protocol=pickle.HIGHEST_PROTOCOL)
        else:
            batch = None
        self.clear()
        return batch, others


#: Files a chunk names for a run report, at most, per list (as the report names them).
TOP = 10


def _keep(heap: list, key: float, order: int, result: FileResult) -> None:
    if len(heap) < TOP:
        heapq.heappush(heap, (key, order, result))
    elif key > heap[0][0]:
        heapq.heapreplace(heap, (key, order, result))
