"""The walking thread: plans what the walk (or a watch) finds and feeds it to the executor in
chunks, so work starts before the walk ends."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Iterable

from batchproc.feed import Feed
from batchproc.plan import Planner
from batchproc.results import FileResult, not_started
from batchproc.task import Task

#: An item of a watch's stream: the files of one settled batch have all been handed over, so a
#: partial chunk goes out now instead of waiting for more.
END_OF_BATCH = "end of batch"


class Walker(threading.Thread):
    """Walks and plans in the background.

    `items` is what the walk found, one folder's files per list. A watch's stream also holds
    END_OF_BATCH markers and deletions (objects whose `results(planner)` says what became of
    a deleted input); the files between two markers form one batch, each with its own chunk
    sizes and, under --watch, its own failure budget.
    """

    def __init__(self, items: Iterable, planner: Planner, feed: Feed, jobs: int, max_chunk: int):
        super().__init__(name="batchproc-walk", daemon=True)
        self.items = items
        self.jobs = jobs
        self.planner = planner
        self.feed = feed
        self.max_chunk = max_chunk
        self.found = 0
        #: The batch being planned (0: the walk, or a watch's first pass), and files found per batch.
        self.batch = 0
        self.found_in: Counter = Counter()
        #: The batch of each task in flight, for per-batch failure budgets.
        self.batch_of: dict[int, int] = {}
        #: Batches whose failure budget is spent: their remaining files are not started.
        self.abandoned: dict[int, str] = {}
        self.error: BaseException | None = None

    def run(self) -> None:
        chunk: list[Task] = []
        try:
            for item in self.items:
                if self.feed.cancelled:
                    return
                if item is END_OF_BATCH:
                    if chunk:
                        self.feed.put_chunk(chunk)
                        chunk = []
                    self.batch += 1
                    continue
                if not isinstance(item, list):  # a deletion
                    for result in item.results(self.planner):
                        self.feed.put_result(result)
                    continue
                self.found += len(item)
                self.found_in[self.batch] += len(item)
                for planned in self.planner.plan_folder(item):
                    if isinstance(planned, Task) and self.batch in self.abandoned:
                        self.feed.put_result(not_started(planned, self.abandoned[self.batch]))
                    elif isinstance(planned, Task):
                        self.batch_of[planned.seq] = self.batch
                        chunk.append(planned)
                        size = chunk_size(self.found_in[self.batch], self.jobs, self.max_chunk)
                        if len(chunk) >= size:
                            self.feed.put_chunk(chunk)
                            chunk = []
                    else:
                        self.feed.put_result(planned)
                if chunk and self.feed.hungry:  # workers are waiting: send what we have
                    self.feed.put_chunk(chunk)
                    chunk = []
            if chunk:
                self.feed.put_chunk(chunk)
        except BaseException as error:  # raised again in the main thread
            self.error = error
        finally:
            self.feed.close()

    def abandon(self, batch: int, why: str) -> list[FileResult]:
        """Start no more files of `batch`: its queued tasks come back as not started."""
        self.abandoned[batch] = why
        taken = self.feed.withdraw(lambda task: self.batch_of.get(task.seq) == batch)
        return [not_started(task, why) for task in taken]


def chunk_size(found: int, jobs: int, max_chunk: int) -> int:
    """Files per chunk, grown with the walk: one at first (a quick first result), then up to
    `max_chunk`, keeping about four chunks per worker of what has been found so far."""
    return max(1, min(max_chunk, found // (jobs * 4)))
