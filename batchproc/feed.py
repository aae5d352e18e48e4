"""The hand-over between the walking thread and the dispatch loop: chunks of work and ready results."""

from __future__ import annotations

import os
import select
import threading
from collections import deque

from batchproc.results import FileResult
from batchproc.task import Task

#: Seconds an executor with no work out waits on a quiet feed before it looks at the stop flags
#: again (a watch waiting for files): new work rings the feed, so this only bounds how soon
#: Ctrl-C is seen.
IDLE_WAIT = 0.5


class Feed:
    """Bounded queues of task chunks and of results decided without a worker (skips).

    The walking thread blocks when `max_tasks` tasks wait, so memory stays flat however large
    the tree. `fileno()` becomes readable whenever something arrives, so the dispatch loop can
    wait on it together with its workers' pipes.
    """

    def __init__(self, max_tasks: int = 4096, max_results: int = 4096) -> None:
        self._chunks: deque[list[Task]] = deque()
        self._retries: deque[Task] = deque()
        self._results: deque[FileResult] = deque()
        self._queued_tasks = 0
        self._max_tasks = max_tasks
        self._max_results = max_results
        self._condition = threading.Condition()
        self._closed = False
        self.cancelled = False
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._read_fd, False)
        os.set_blocking(self._write_fd, False)

    # The producer's side.

    def put_chunk(self, chunk: list[Task]) -> None:
        with self._condition:
            while self._queued_tasks >= self._max_tasks and not self.cancelled:
                self._condition.wait()
            self._chunks.append(chunk)
            self._queued_tasks += len(chunk)
        self._ring()

    def put_result(self, result: FileResult) -> None:
        with self._condition:
            while len(self._results) >= self._max_results and not self.cancelled:
                self._condition.wait()
            self._results.append(result)
        self._ring()

    def retry(self, task: Task) -> None:
        """Queue a task again, ahead of new work (the consumer's side may call this: never blocks)."""
        with self._condition:
            self._retries.append(task)
        self._ring()

    def close(self) -> None:
        """No more work will come."""
        with self._condition:
            self._closed = True
        self._ring()

    @property
    def hungry(self) -> bool:
        """True when no chunk waits: a partial chunk is worth sending now."""
        return not self._chunks

    # The consumer's side.

    def take_results(self) -> list[FileResult]:
        with self._condition:
            taken = list(self._results)
            self._results.clear()
            self._condition.notify_all()
        self._drain()
        return taken

    def take_chunk(self) -> list[Task] | None:
        with self._condition:
            if self._retries:
                return [self._retries.popleft()]
            if not self._chunks:
                return None
            chunk = self._chunks.popleft()
            self._queued_tasks -= len(chunk)
            self._condition.notify_all()
        return chunk

    def cancel(self) -> list[Task]:
        """Stop the producer and return the tasks that were queued but never dispatched."""
        with self._condition:
            self.cancelled = True
            left = [*self._retries, *(task for chunk in self._chunks for task in chunk)]
            self._chunks.clear()
            self._retries.clear()
            self._queued_tasks = 0
            self._condition.notify_all()
        return left

    def withdraw(self, unwanted) -> list[Task]:
        """Take back the queued tasks for which `unwanted(task)` is true (a watch whose failure
        budget is spent for one batch); the producer goes on."""
        with self._condition:
            taken = [task for task in self._retries if unwanted(task)]
            self._retries = deque(task for task in self._retries if not unwanted(task))
            chunks = deque()
            for chunk in self._chunks:
                kept = [task for task in chunk if not unwanted(task)]
                taken.extend(task for task in chunk if unwanted(task))
                if kept:
                    chunks.append(kept)
            self._chunks = chunks
            self._queued_tasks = sum(len(chunk) for chunk in chunks)
            self._condition.notify_all()
        return taken

    @property
    def left(self) -> int | None:
        """Tasks still waiting once the walk is over (None while it goes on)."""
        with self._condition:
            return self._queued_tasks + len(self._retries) if self._closed else None

    @property
    def exhausted(self) -> bool:
        with self._condition:
            return self._closed and not self._chunks and not self._results and not self._retries

    def fileno(self) -> int:
        return self._read_fd

    def _ring(self) -> None:
        try:
            os.write(self._write_fd, b"\0")
        except BlockingIOError:  # the doorbell is already ringing
            pass
        except OSError:  # closed at shutdown
            pass

    def _drain(self) -> None:
        try:
            while os.read(self._read_fd, 4096):
                pass
        except (BlockingIOError, OSError):
            pass

    def dispose(self) -> None:
        for fd in (self._read_fd, self._write_fd):
            try:
                os.close(fd)
            except OSError:
                pass


def wait_readable(objects, timeout: float | None) -> list:
    """Those of `objects` (file descriptors, or objects with fileno(): the feed, pipes, process
    sentinels) ready to read or closed, waiting at most `timeout` seconds. The same as
    multiprocessing.connection.wait, without importing multiprocessing before it is needed."""
    poller = select.poll()
    by_fd = {}
    for item in objects:
        fd = item if isinstance(item, int) else item.fileno()
        by_fd[fd] = item
        poller.register(fd, select.POLLIN)
    events = poller.poll(None if timeout is None else max(0, int(timeout * 1000)))
    return [by_fd[fd] for fd, _ in events]
