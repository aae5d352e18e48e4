"""How much work a local worker's chunk holds, as files have taken so far.

The walk cuts chunks by count; a chunk of slow files (a video each) would keep one worker busy
for minutes while the other sits idle at the end. So a chunk goes out with at most about a
second of work, and once the walk is over with at most a share of what is left.
"""

from __future__ import annotations

from collections import deque

from batchproc.result_batch import ResultBatch
from batchproc.results import SKIPPED, FileResult
from batchproc.task import Task

#: Seconds of work a chunk holds at most, once files are seen to take that long.
CHUNK_SECONDS = 1.0


class Pace:
    """A moving average of how long a file takes, and the chunk sizes it allows."""

    def __init__(self, jobs: int, depth: int) -> None:
        #: Workers, and the chunks each may hold at once.
        self.jobs, self.depth = jobs, depth
        #: Seconds per file (a moving average of the results so far), None before any.
        self.file_seconds: float | None = None

    def note(self, result: FileResult | ResultBatch) -> None:
        """Learn from a result, or a batch of them (skips say nothing about the pace)."""
        if type(result) is ResultBatch:
            self._note_seconds(result.ms / 1000 / len(result))
        elif result.ms is not None and result.status is not SKIPPED:
            self._note_seconds(result.ms / 1000)

    def cut(self, chunk: list[Task], retry: deque, left: int | None = None) -> list[Task]:
        """At most CHUNK_SECONDS of `chunk`: the rest waits its turn at the front of `retry`
        (ahead of new work), so slow files go out one or two at a time. Once the walk is over
        (`left`: the tasks still waiting, this chunk's included), at most a share of what is
        left for each chunk a worker may hold, so that the workers finish together."""
        most = len(chunk)
        if self.file_seconds is not None:
            most = max(1, int(CHUNK_SECONDS / max(self.file_seconds, 1e-6)))
        if left is not None:
            most = min(most, max(1, left // (self.jobs * self.depth)))
        if len(chunk) <= most:
            return chunk
        retry.appendleft(chunk[most:])
        return chunk[:most]

    def _note_seconds(self, seconds: float) -> None:
        self.file_seconds = seconds if self.file_seconds is None else \
            0.7 * self.file_seconds + 0.3 * seconds
