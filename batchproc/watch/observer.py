"""Hearing about changes under the watched folders, through watchdog.

watchdog (inotify on Linux, with close-write and moved-to events; a polling observer for
network file systems) reports paths as str, names that are not UTF-8 surrogate-escaped as
`os.fsdecode` makes them. This module turns its events into four plain calls of `post`:
("changed", path), ("deleted", path), ("folder", path) and ("folder gone", path).

What watchdog does not cover is covered here: inotify watches are per user and limited
(`fs.inotify.max_user_watches`). watchdog raises when the watched folder itself cannot be
watched but (from version 7) silently skips subfolders it cannot watch, so after each
folder is watched a fresh inotify instance tries to add one watch: when even that fails,
the limit is reached and the watch falls back to polling, saying so in one warning line (every
FALLBACK_POLL seconds, or less often where one look at the tree takes long).
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import sys
import threading
import time
from typing import Callable

from batchproc.errors import UsageError

#: Seconds between two looks at the tree when polling replaces inotify (its limits reached), at
#: least; longer for a tree whose look takes more than a POLL_BUDGET-th of that.
FALLBACK_POLL = 5.0
POLL_BUDGET = 20
INSTALL_HINT = "pip install 'batchproc[watch]'"


def require_watchdog() -> None:
    """Refuse --watch, as a usage error, when watchdog is not installed."""
    try:
        import watchdog.observers  # noqa: F401
    except ImportError as error:
        raise UsageError(f"--watch needs watchdog: {INSTALL_HINT} ({error})") from None


class FolderObserver:
    """Watches folders recursively and posts what changes in them.

    `keep(folder, entry)` says which entries polling should look at (so polling never stats
    the output folders or hidden trees nobody asked for); `warn(line)` says a thing once.
    """

    def __init__(self, post: Callable[[str, str], None], *, poll: float | None = None,
                 follow_symlinks: bool = False, keep=None, warn: Callable[[str], None] = print) -> None:
        self.post = post
        self.poll = poll
        self.follow_symlinks = follow_symlinks
        self.keep = keep or (lambda folder, entry: True)
        self.warn = warn
        self._folders: list[tuple[str, bool]] = []
        self._lock = threading.RLock()
        self._handler = _handler(post)
        self._observer = None
        self._inotify = False
        #: Why polling replaced inotify (ENOSPC: no watch left, EMFILE: no instance), if it did.
        self._fallback: int | None = None
        self._warned = False
        self._said = _WatchdogSays(post, warn)
        logging.getLogger("watchdog").addHandler(self._said)
        self._start()

    @property
    def how(self) -> str:
        """How changes are heard, for the line that says what is being watched."""
        return "inotify" if self._inotify else f"polling every {self.poll:g} s"

    def watch(self, folder: str, recursive: bool = True) -> None:
        """Watch `folder` (an absolute path) and, `recursive`, everything below it."""
        with self._lock:
            self._folders.append((folder, recursive))
            try:
                self._schedule(self._observer, folder, recursive)
            except OSError as error:
                if not (self._inotify and error.errno in (errno.ENOSPC, errno.EMFILE)):
                    raise UsageError(f"cannot watch {folder}: {error.strerror or error}") from None
                self._fallback = error.errno
                self._poll_instead()
                return
            if self._fallback is not None:  # polling since the start: size it for this tree too
                self._poll_instead()
            else:
                self.check_limit()

    def check_limit(self) -> None:
        """Fall back to polling if inotify has run out of watches (some folder went unwatched)."""
        with self._lock:
            if self._inotify and not _inotify_watch_left():
                self._fallback = errno.ENOSPC
                self._poll_instead()

    def stop(self) -> None:
        with self._lock:
            observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            observer.join(5)
        logging.getLogger("watchdog").removeHandler(self._said)

    def _start(self) -> None:
        if self.poll is None:
            from watchdog.observers import Observer

            try:
                self._observer = Observer()
                self._inotify = type(self._observer).__name__ == "InotifyObserver"
            except OSError as error:  # no inotify instance left (max_user_instances)
                self._fallback, self.poll = error.errno, FALLBACK_POLL
                self._observer = self._poller(self.poll)
        else:
            self._observer = self._poller(self.poll)
        self._observer.start()

    def _poller(self, interval: float):
        from watchdog.observers.polling import PollingObserverVFS

        def listdir(folder):
            return [entry for entry in os.scandir(folder) if self.keep(folder, entry)]

        return PollingObserverVFS(os.stat, listdir, polling_interval=interval)

    def _schedule(self, observer, folder: str, recursive: bool) -> None:
        options = {"recursive": recursive, "event_filter": _EVENTS}
        if self.follow_symlinks and _SCHEDULE_FOLLOWS:
            options["follow_symlink"] = True
        observer.schedule(self._handler, folder, **options)

    def _poll_instead(self) -> None:
        """Poll instead of inotify, often enough to be useful and seldom enough to cost little
        (a look at the tree may take a twentieth of the time: about 5% of a core). The poller
        takes its first look before the old observer stops, so nothing in between is missed."""
        interval, poller = FALLBACK_POLL, None
        for _ in range(2):  # the first look says how long a look takes
            if poller is not None:
                poller.stop()
            poller = self._poller(interval)
            poller.start()
            began = time.monotonic()
            for folder, recursive in self._folders:
                self._schedule(poller, folder, recursive)
            wanted = max(FALLBACK_POLL, POLL_BUDGET * (time.monotonic() - began))
            if wanted <= interval * 1.5:
                break
            interval = round(wanted)
        old, self._observer, self._inotify, self.poll = self._observer, poller, False, interval
        old.stop()
        if not self._warned:
            self._warned = True
            self._say_fallback(self._fallback)

    def _say_fallback(self, reason: int) -> None:
        if reason == errno.EMFILE:
            limit, name, more = _read_limit("max_user_instances"), "fs.inotify.max_user_instances", 1024
        else:
            limit, name, more = _read_limit("max_user_watches"), "fs.inotify.max_user_watches", 524288
        self.warn(f"Warning: the inotify limit is reached ({name} = {limit}): watching by polling "
                  f"every {self.poll:g} s instead (raise it: sysctl {name}={more})")


class _WatchdogSays(logging.Handler):
    """What watchdog logs, said as batchproc says things. An inotify queue that overflowed
    (events lost in a storm of changes: watchdog 7 says so) is also posted as ("overflow", ""),
    for the watch to look at its whole tree again."""

    def __init__(self, post, warn) -> None:
        super().__init__(logging.WARNING)
        self.post, self.warn = post, warn

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "overflow" in message.lower():
            self.warn("Warning: more changes at once than inotify could queue: looking at the whole "
                      "tree again")
            self.post("overflow", "")
        else:
            self.warn(f"Warning: {message}")


def _handler(post):
    """A watchdog handler that posts each event as one of the four plain kinds."""
    from watchdog.events import FileSystemEventHandler

    class Handler(FileSystemEventHandler):
        def dispatch(self, event) -> None:
            kind = event.event_type
            source = os.fsdecode(event.src_path) if event.src_path else ""
            if kind == "moved":
                destination = os.fsdecode(event.dest_path) if event.dest_path else ""
                if source:
                    post("folder gone" if event.is_directory else "deleted", source)
                if destination:
                    post("folder" if event.is_directory else "changed", destination)
            elif kind == "deleted":
                post("folder gone" if event.is_directory else "deleted", source)
            elif event.is_directory:
                if kind == "created":
                    post("folder", source)
            elif kind in ("created", "modified", "closed", "attrib"):
                post("created" if kind == "created" else "changed", source)

    return Handler()


def _event_classes():
    """The events worth hearing; reads (opened, closed without writing) are left to the kernel."""
    try:
        from watchdog import events
    except ImportError:
        return None
    names = ("FileCreatedEvent", "FileModifiedEvent", "FileClosedEvent", "FileMovedEvent",
             "FileDeletedEvent", "DirCreatedEvent", "DirMovedEvent", "DirDeletedEvent",
             "FileAttribEvent")  # FileAttribEvent: watchdog 7 (6 reports attributes as modified)
    return [getattr(events, name) for name in names if hasattr(events, name)]


def _schedule_follows() -> bool:
    try:
        import inspect

        from watchdog.observers.api import BaseObserver
    except ImportError:
        return False
    return "follow_symlink" in inspect.signature(BaseObserver.schedule).parameters


_EVENTS = _event_classes()
#: watchdog 7 can follow symbolic links into folders (--follow-symlinks); 6 never does.
_SCHEDULE_FOLLOWS = _schedule_follows()


_libc = None


def _inotify_watch_left() -> bool:
    """False when this user cannot add one more inotify watch (ENOSPC)."""
    global _libc
    if not sys.platform.startswith("linux"):
        return True
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    libc = _libc
    fd = libc.inotify_init1(os.O_CLOEXEC)
    if fd < 0:
        return True  # out of instances, not of watches: ours already has its instance
    try:
        return libc.inotify_add_watch(fd, b"/", 0x400) >= 0 or ctypes.get_errno() != errno.ENOSPC
    finally:
        os.close(fd)


def _read_limit(name: str) -> str:
    try:
        with open(f"/proc/sys/fs/inotify/{name}") as handle:
            return handle.read().strip()
    except OSError:
        return "?"
