"""What one run sees of a watch: its own tree (watch/tree.py), and the endless stream its
walking thread reads (the first pass, then settled files, one batch at a time, and deletions).

Streamed files keep their place in the tree (the argument they are under, and their path
relative to it), so their outputs go exactly where a normal run would put them. Each path
handed to the planner is "in work" until its record comes back (`finished`): a file that
settles again meanwhile waits for that record, and a file deleted meanwhile is accounted
for after it.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from typing import Callable, Iterator

from batchproc.results import OK, FileResult
from batchproc.stopping import StopControl
from batchproc.walk import Found, WalkRules, walk
from batchproc.walker import END_OF_BATCH
from batchproc.watch.deletions import Deletion, FolderDeletion
from batchproc.watch.tree import WatchedTree

#: Seconds between two looks at the run's own health (lost output folders, unsaved state) when idle.
IDLE_TICK = 0.5


class Share:
    """One run's view of a watch."""

    def __init__(self, hot, args: list[str], rules: WalkRules, *, accepts: Callable[[str], bool],
                 mirror: bool, control: StopControl, settle: float, order: int = 0) -> None:
        self.hot = hot
        self.args = args
        self.rules = rules
        self.accepts = accepts
        self.mirror = mirror
        self.control = control
        self.settle = settle
        self.order = order
        self.tree = WatchedTree(args, rules)
        #: Called from the walking thread when there is nothing to do (the run's own checks).
        self.on_idle: Callable[[], None] = lambda: None
        self._lock = threading.Condition()
        self._queue: deque[tuple[int | None, list]] = deque()
        self._in_work: set[str] = set()
        self._settle_again: set[str] = set()
        self._deleted_in_work: set[str] = set()
        self._consumed: set[str] = set()
        self._made: set[str] = set()
        self._open_ticket: int | None = None
        self.closed = False

    # What the watch asks of a share (the watch's thread).

    def take(self, ticket: int | None, settled: list[tuple[str, os.stat_result]]) -> bool:
        """Queue the settled files this run wants as one batch; False if it wants none."""
        batch: list[list[Found]] = []
        for path, info in settled:
            if not self.tree.wants(path):
                continue
            with self._lock:
                if path in self._made:  # an output this run just wrote into the watched tree
                    self._made.discard(path)
                    continue
            found = self.tree.found(path)
            if found is None or (found.fatal and not os.path.lexists(found.path)):
                continue
            if found.stat is not None and _fingerprint(found.stat) != _fingerprint(info):
                self.hot.touch(path)  # written to again since it settled
                continue
            folder = os.path.dirname(found.path)
            if batch and os.path.dirname(batch[-1][0].path) == folder:
                batch[-1].append(found)
            else:
                batch.append([found])
        if batch:
            self._put(ticket, batch)
        return bool(batch)

    def deleted(self, path: str) -> None:
        """An input is gone (deleted, or moved out of the watched tree)."""
        found = self.tree.gone(path)
        if found is None or not self.accepts(os.path.basename(found.path)):
            return
        with self._lock:
            if path in self._consumed:  # its own step removed it (compress --no-keep)
                self._consumed.discard(path)
                return
            if found.path in self._in_work:
                self._deleted_in_work.add(found.path)
                return
        self._put(None, [Deletion(found, self.mirror)])

    def folder_gone(self, folder: str) -> None:
        where = self.tree.folder(folder)
        if where is not None:
            self._put(None, [FolderDeletion(*where, self.mirror)])

    # What the run asks of its share.

    def items(self) -> Iterator:
        """The walking thread's input: the first pass, then each settled batch, endlessly."""
        try:
            if not self._wait_turn(self.order):
                return
            yield from self._first_pass()
            yield END_OF_BATCH
            self._opened(self.order)
            while not self.control.draining:
                entry = self._take(IDLE_TICK)
                if entry is None:
                    self.on_idle()
                    continue
                ticket, batch = entry
                if ticket is not None and not self._wait_turn(ticket):
                    return
                for item in batch:
                    if isinstance(item, list):
                        item = self._claim(item)
                        if not item:
                            continue
                    yield item
                yield END_OF_BATCH
                if ticket is not None:
                    self._opened(ticket)
        finally:
            self.close()

    def finished(self, result: FileResult) -> None:
        """A record came back (the runner calls this for every record while watching)."""
        path = result.input
        with self._lock:
            if path not in self._in_work:
                return
            self._in_work.discard(path)
            settle_again = path in self._settle_again or result.input_changed
            self._settle_again.discard(path)
            deleted = path in self._deleted_in_work
            self._deleted_in_work.discard(path)
            if result.status == OK and not os.path.lexists(path):
                # Gone right after its outputs were made: its own step removed it (compress
                # --no-keep), or it was deleted just as it was done. Either way its outputs stay.
                if not deleted:
                    self._consumed.add(os.path.abspath(path))
                deleted = settle_again = False
            if result.status == OK:
                self._made.update(self._outputs_in_tree(result))
            done = self._open_ticket if not self._in_work else None
            if done is not None:
                self._open_ticket = None
        if settle_again:
            self.hot.touch(os.path.abspath(path))
        if deleted:
            self.deleted(os.path.abspath(path))
        if done is not None and self.hot.turnstile is not None:
            self.hot.turnstile.done(done)

    def close(self) -> None:
        """The run is over: give up its turns, so the other jobs of a job file go on."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            tickets = [ticket for ticket, _ in self._queue if ticket is not None]
            tickets += [self.order] + ([self._open_ticket] if self._open_ticket is not None else [])
            self._queue.clear()
        self.hot.leave(self, tickets)

    # Inside.

    def _outputs_in_tree(self, result: FileResult) -> list[str]:
        """The outputs of a record that land in the watched tree under a new name (in place,
        another extension): the event of their arrival is not a new input."""
        outputs = result.output if isinstance(result.output, list) else [result.output]
        return [os.path.abspath(output) for output in outputs
                if output and output != result.input and self.tree.wants(os.path.abspath(output))]

    def _first_pass(self) -> Iterator[list[Found]]:
        """The ordinary incremental walk, except files modified within the last `settle`
        seconds: those are left to the watch, which takes them once they have settled."""
        for folder in walk(self.args, self.rules):
            keep = []
            now = time.time()
            for found in folder:
                if found.problem is None and now - found.stat.st_mtime < self.settle:
                    self.hot.adopt(os.path.abspath(found.path), found.stat)
                elif not (found.fatal and not os.path.lexists(found.path)):  # gone: the watch hears
                    keep.append(found)
            keep = self._claim(keep)
            if keep:
                yield keep

    def _claim(self, files: list[Found]) -> list[Found]:
        """Mark files as in work; one already in work settles again once its record is back."""
        with self._lock:
            taken = []
            for found in files:
                if found.path in self._in_work:
                    self._settle_again.add(found.path)
                else:
                    self._in_work.add(found.path)
                    taken.append(found)
            return taken

    def _opened(self, ticket: int) -> None:
        """A batch is handed over: its turn ends when its last record is back."""
        with self._lock:
            if self._in_work:
                self._open_ticket = ticket
                return
        if self.hot.turnstile is not None:
            self.hot.turnstile.done(ticket)

    def _wait_turn(self, ticket: int) -> bool:
        turnstile = self.hot.turnstile
        return turnstile is None or turnstile.wait(ticket, self.control)

    def _put(self, ticket: int | None, batch: list) -> None:
        with self._lock:
            if self.closed:
                return
            self._queue.append((ticket, batch))
            self._lock.notify_all()

    def _take(self, timeout: float):
        with self._lock:
            if not self._queue:
                self._lock.wait(timeout)
            return self._queue.popleft() if self._queue else None


def _fingerprint(info: os.stat_result) -> tuple[int, int]:
    return info.st_size, info.st_mtime_ns
