"""What one run sees of a watch: its own folders and walk rules, and the endless stream its
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
from dataclasses import dataclass
from typing import Callable, Iterator

from batchproc.results import OK, FileResult
from batchproc.stopping import StopControl
from batchproc.walk import (STATE_FOLDER, TEMP_PREFIX, Found, WalkRules, folder_taken, found_argument,
                            found_in_tree, is_partial_name, walk, walk_below)
from batchproc.walker import END_OF_BATCH
from batchproc.watch.deletions import Deletion, FolderDeletion

#: Seconds between two looks at the run's own health (lost output folders, unsaved state) when idle.
IDLE_TICK = 0.5


@dataclass(frozen=True)
class WatchedRoot:
    """One argument: a folder (watched with everything below it), or a file (watched alone)."""

    given: str  # as the user gave it: streamed paths are built on it
    folder: str  # the absolute folder watched
    name: str | None = None  # a file argument: its name in `folder`


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
        self.roots = [_root(arg) for arg in args]
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

    def locate(self, path: str) -> tuple[WatchedRoot, str] | None:
        """The argument an absolute path is under, and its path relative to it."""
        for root in self.roots:
            if root.name is not None:
                if path == os.path.join(root.folder, root.name):
                    return root, root.name
            elif path.startswith(root.folder.rstrip(os.sep) + os.sep):
                return root, path[len(root.folder.rstrip(os.sep)) + 1:]
        return None

    def wants(self, path: str) -> bool:
        """Whether a change to this file matters to this run (by its name and folder: no stat)."""
        located = self.locate(path)
        if located is None:
            return False
        root, relpath = located
        if root.name is not None:
            return True
        relfolder, name = os.path.split(relpath)
        if name == STATE_FOLDER or name.startswith(TEMP_PREFIX) or is_partial_name(name):
            return False
        if not self.rules.hidden and name.startswith("."):
            return False
        return self.rules.excludes(name, relpath) is None and folder_taken(root.given, relfolder, self.rules)

    def found(self, path: str) -> Found | None:
        """What the walk would say about the file at this absolute path now (one stat)."""
        located = self.locate(path)
        if located is None:
            return None
        root, relpath = located
        if root.name is not None:
            return found_argument(root.given)
        return found_in_tree(root.given, relpath, self.rules)

    def take(self, ticket: int | None, settled: list[tuple[str, os.stat_result]]) -> bool:
        """Queue the settled files this run wants as one batch; False if it wants none."""
        batch: list[list[Found]] = []
        for path, info in settled:
            if not self.wants(path):
                continue
            with self._lock:
                if path in self._made:  # an output this run just wrote into the watched tree
                    self._made.discard(path)
                    continue
            found = self.found(path)
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
        if not self.wants(path):
            return
        root, relpath = self.locate(path)
        found = Found(root.given if root.name else os.path.join(root.given, relpath),
                      "" if root.name else root.given, relpath)
        if not self.accepts(os.path.basename(relpath)):
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
        located = self.locate(folder)
        if located is None or located[0].name is not None:
            return
        root, relfolder = located
        if folder_taken(root.given, relfolder, self.rules):
            self._put(None, [FolderDeletion(root.given, relfolder, self.mirror)])

    def folder_appeared(self, folder: str) -> Iterator[tuple[str, os.stat_result]]:
        """The files already in a folder that just appeared (made before its watch existed)."""
        located = self.locate(folder)
        if located is None or located[0].name is not None:
            return
        root, relfolder = located
        if not folder_taken(root.given, relfolder, self.rules):
            return
        for files in walk_below(root.given, relfolder, self.rules):
            for found in files:
                if found.problem is None:
                    yield os.path.abspath(found.path), found.stat

    def everything(self) -> Iterator[tuple[str, os.stat_result]]:
        """Every file under this run's arguments now (after events were lost)."""
        for root in self.roots:
            if root.name is not None:
                found = found_argument(root.given)
                files = [[found]] if found.problem is None else []
            else:
                files = walk_below(root.given, "", self.rules)
            for folder in files:
                for found in folder:
                    if found.problem is None:
                        yield os.path.abspath(found.path), found.stat

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
                if output and output != result.input and self.wants(os.path.abspath(output))]

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


def _root(arg: str) -> WatchedRoot:
    if os.path.isdir(arg):
        return WatchedRoot(arg, os.path.abspath(arg))
    folder, name = os.path.split(os.path.abspath(arg))
    return WatchedRoot(arg, folder, name)


def _fingerprint(info: os.stat_result) -> tuple[int, int]:
    return info.st_size, info.st_mtime_ns
