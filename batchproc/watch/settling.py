"""When a file is complete: its size and mtime have not changed for `settle` seconds.

An event (a write, a close, a rename into place) restarts a file's wait; the file is looked at
(one stat) at most once per check after its events, and again when its wait is over: the same
size and mtime as after its last event means nothing was written since, and it is settled.
Files found by a walk (at start-up, or in a new folder) wait from their mtime.
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass


@dataclass(slots=True)
class _Waiting:
    #: (size, mtime_ns) as last seen, or None before the first look.
    seen: tuple[int, int] | None
    #: When (time.monotonic()) the file will have been quiet for `settle` seconds.
    due: float
    #: Created while watched and never settled: its deletion is nothing to report.
    fresh: bool
    #: Changed since it was last looked at.
    stale: bool


class Settler:
    """Files seen changing, each given back once it has kept its size and mtime long enough."""

    def __init__(self, settle: float, clock=time.monotonic) -> None:
        self.settle = settle
        self.clock = clock
        self._waiting: dict[str, _Waiting] = {}

    def __len__(self) -> int:
        return len(self._waiting)

    def __contains__(self, path: str) -> bool:
        return path in self._waiting

    def touch(self, path: str, *, fresh: bool = False) -> None:
        """The file changed (or appeared): its wait starts again."""
        waiting = self._waiting.get(path)
        due = self.clock() + self.settle
        if waiting is None:
            self._waiting[path] = _Waiting(None, due, fresh, True)
        else:
            waiting.due, waiting.stale = due, True

    def adopt(self, path: str, info: os.stat_result, *, fresh: bool = False) -> None:
        """A file a walk found: it has been unchanged since its mtime (by this machine's clock)."""
        if path in self._waiting:
            return self.touch(path)
        age = max(0.0, time.time() - info.st_mtime)
        self._waiting[path] = _Waiting((info.st_size, info.st_mtime_ns),
                                       self.clock() + max(0.0, self.settle - age), fresh, False)

    def forget(self, path: str) -> bool:
        """The file is gone; True if it was fresh (created while watched, never settled)."""
        waiting = self._waiting.pop(path, None)
        return waiting is not None and waiting.fresh

    def forget_below(self, folder: str) -> None:
        """A folder is gone: so is everything waiting in it."""
        prefix = folder.rstrip(os.sep) + os.sep
        for path in [path for path in self._waiting if path.startswith(prefix)]:
            del self._waiting[path]

    def next_check(self) -> float | None:
        """Seconds until a check is worth making: soon after an event, else just after the
        first due time (files written together then settle together, as one batch); None when
        nothing waits."""
        if not self._waiting:
            return None
        now = self.clock()
        soonest = min(waiting.due for waiting in self._waiting.values()) + TOGETHER
        if any(waiting.stale for waiting in self._waiting.values()):
            return min(max(0.0, soonest - now), CHECK_AFTER_EVENTS)
        return max(0.0, soonest - now)

    def check(self) -> list[tuple[str, os.stat_result]]:
        """The files settled now, with what they look like, sorted by path; the others wait on.
        A file that is gone or no longer a regular file is dropped (its deletion is heard
        separately)."""
        now = self.clock()
        settled = []
        for path, waiting in list(self._waiting.items()):
            if not waiting.stale and now < waiting.due:
                continue
            try:
                info = os.stat(path)
            except OSError:
                del self._waiting[path]
                continue
            if not stat.S_ISREG(info.st_mode):
                del self._waiting[path]
                continue
            fingerprint = (info.st_size, info.st_mtime_ns)
            if waiting.stale:
                waiting.seen, waiting.stale = fingerprint, False
            elif fingerprint == waiting.seen:
                del self._waiting[path]
                settled.append((path, info))
            else:  # changed without an event (polling, a lost event): wait again
                waiting.seen, waiting.due = fingerprint, now + self.settle
        settled.sort(key=lambda item: item[0])
        return settled


#: Seconds between an event and the look at the file it is about (events come in bursts).
CHECK_AFTER_EVENTS = 0.1
#: Files due within this many seconds of each other settle in one check (one batch).
TOGETHER = 0.05
