"""One watch: the observer, the files waiting to settle, and the runs (shares) it feeds.

Its thread takes the observer's events, keeps the Settler, and hands each batch of settled
files to the shares that want them. Everything the Settler holds is touched by that thread
only; other threads post to it.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from typing import Callable

from batchproc.errors import ExitCode
from batchproc.execution import error_text
from batchproc.stopping import StopControl
from batchproc.walk import STATE_FOLDER, TEMP_PREFIX, WalkRules
from batchproc.watch.observer import FolderObserver, require_watchdog
from batchproc.watch.settling import CHECK_AFTER_EVENTS, Settler
from batchproc.watch.share import IDLE_TICK, Share


class HotFolders:
    """Watches the folders of one or more runs and feeds each its settled files."""

    def __init__(self, *, settle: float, poll: float | None, control: StopControl,
                 say: Callable[[str], None], follow_symlinks: bool = False, jobs: int = 1) -> None:
        require_watchdog()
        self.settle = settle
        self.control = control
        self.say = say
        self.settler = Settler(settle)
        #: Several jobs of a job file work one at a time, in file order (None: a single run).
        self.turnstile = Turnstile(jobs) if jobs > 1 else None
        self._shares: list[Share] = []
        self._posted: deque = deque()
        self._condition = threading.Condition()
        self._folders: dict[str, tuple[str, os.stat_result]] = {}  # absolute -> (given, identity)
        self._watched: set[tuple[str, bool]] = set()
        self._watching = threading.Lock()
        self._observer = FolderObserver(self._post, poll=poll, follow_symlinks=follow_symlinks,
                                        keep=self._keeps, warn=say)
        self._thread = threading.Thread(target=self._run, name="batchproc-watch", daemon=True)
        self._thread.start()

    @property
    def how(self) -> str:
        return self._observer.how

    def share(self, args: list[str], rules: WalkRules, **options) -> Share:
        """A run's view of the watch; its folders are watched before this returns."""
        share = Share(self, args, rules, settle=self.settle, control=self.control, **options)
        with self._condition:
            self._shares.append(share)
            self._shares.sort(key=lambda each: each.order)
        with self._watching:
            for root in share.tree.roots:
                recursive = root.name is None
                if (root.folder, recursive) not in self._watched:
                    self._watched.add((root.folder, recursive))
                    self._folders.setdefault(root.folder, (root.given if recursive else root.folder,
                                                           os.stat(root.folder)))
                    self._observer.watch(root.folder, recursive=recursive)
        return share

    def touch(self, path: str) -> None:
        """Wait for this file to settle (again)."""
        self._post("changed", path)

    def adopt(self, path: str, info: os.stat_result) -> None:
        """A file a walk found still changing: wait for it to settle."""
        self._post("adopt", (path, info))

    def leave(self, share: Share, tickets: list[int]) -> None:
        """A run is over: feed it no more, and let the turns it held pass."""
        with self._condition:
            if share in self._shares:
                self._shares.remove(share)
        if self.turnstile is not None:
            for ticket in tickets:
                self.turnstile.done(ticket)

    def close(self) -> None:
        self._observer.stop()
        with self._condition:
            self._posted.append(("stop", None))
            self._condition.notify_all()
        self._thread.join(5)

    # The watch's thread.

    def _post(self, kind: str, path) -> None:
        with self._condition:
            self._posted.append((kind, path))
            self._condition.notify_all()

    def _run(self) -> None:
        checked = looked = 0.0
        try:
            while True:
                wait = self.settler.next_check()
                with self._condition:
                    if not self._posted:
                        self._condition.wait(IDLE_TICK if wait is None else min(wait, IDLE_TICK))
                    posted, self._posted = self._posted, deque()
                for kind, path in posted:
                    if kind == "stop":
                        return
                    self._handle(kind, path)
                now = time.monotonic()
                if self.settler and (not posted or now - checked >= CHECK_AFTER_EVENTS):
                    checked = now
                    settled = self.settler.check()
                    if settled:
                        self._route(settled)
                if now - looked >= IDLE_TICK:
                    looked = now
                    self._check_folders()
        except BaseException as error:  # noqa: BLE001 - a watch that cannot go on ends the run
            self.say(f"Error: the watch stopped: {error_text(error)}")
            self.control.drain(f"stopped: the watch failed ({error_text(error)})", ExitCode.ABORTED)

    def _handle(self, kind: str, path) -> None:
        if kind == "adopt":
            self.settler.adopt(*path)
        elif kind in ("changed", "created"):
            if any(share.tree.wants(path) for share in self._live()):
                self.settler.touch(path, fresh=kind == "created")
        elif kind == "deleted":
            if not self.settler.forget(path):  # a file that never settled leaves no trace
                for share in self._live():
                    share.deleted(path)
        elif kind == "folder":
            self._observer.check_limit()  # the folder may have gone unwatched
            for share in self._live():
                for found_path, info in share.tree.files_below(path):
                    self.settler.adopt(found_path, info, fresh=True)
        elif kind == "overflow":  # events were lost: every file may have changed
            for share in self._live():
                for found_path, info in share.tree.everything():
                    self.settler.adopt(found_path, info)
        elif kind == "folder gone":
            self.settler.forget_below(path)
            for share in self._live():
                share.folder_gone(path)

    def _route(self, settled) -> None:
        for share in self._live():
            ticket = self.turnstile.issue() if self.turnstile is not None else None
            if not share.take(ticket, settled) and ticket is not None:
                self.turnstile.done(ticket)

    def _check_folders(self) -> None:
        """A watched folder that is gone (or another in its place) ends the watch: nothing
        more can arrive there, and a service manager should hear of it."""
        for folder, (given, identity) in list(self._folders.items()):
            try:
                same = os.path.samestat(identity, os.stat(folder))
            except OSError:
                same = False
            if not same:
                self.control.drain(f"stopped: the watched folder {given} is gone", ExitCode.ABORTED)

    def _live(self) -> list[Share]:
        with self._condition:
            return list(self._shares)

    def _keeps(self, folder: str, entry) -> bool:
        """Whether polling should look at an entry: never batchproc's own temporaries, nor a
        folder no run would walk (an output folder inside the inputs, a hidden tree)."""
        name = entry.name
        if name == STATE_FOLDER or name.startswith(TEMP_PREFIX):
            return False
        if not entry.is_dir(follow_symlinks=False):
            return True
        path = os.path.join(folder, name)
        return any(share.tree.walks_into(path) for share in self._live())


class Turnstile:
    """Lets one job of a job file work at a time: turns (tickets) are served in the order they
    were issued. Tickets 0..jobs-1 are the jobs' first passes, in file order."""

    def __init__(self, jobs: int) -> None:
        self._next = jobs
        self._serving = 0
        self._done: set[int] = set()
        self._condition = threading.Condition()

    def issue(self) -> int:
        with self._condition:
            ticket, self._next = self._next, self._next + 1
            return ticket

    def wait(self, ticket: int, control: StopControl) -> bool:
        """Until it is this ticket's turn; False if the run is stopping instead."""
        with self._condition:
            while self._serving != ticket and not control.draining:
                self._condition.wait(IDLE_TICK)
            return not control.draining

    def done(self, ticket: int) -> None:
        with self._condition:
            self._done.add(ticket)
            while self._serving in self._done:
                self._done.discard(self._serving)
                self._serving += 1
            self._condition.notify_all()
