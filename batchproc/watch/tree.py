"""Which paths belong to one run's watch: its arguments (folders watched with everything below
them, or single files) and the walk rules that decide, path by path, what a walk would take.

Paths from the observer are absolute; paths handed on are built on the arguments as the user
gave them (root + path relative to it), as the walk builds them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterator

from batchproc.walk import (STATE_FOLDER, TEMP_PREFIX, Found, WalkRules, folder_taken, found_argument,
                            found_in_tree, is_partial_name, walk_below)


@dataclass(frozen=True)
class WatchedRoot:
    """One argument: a folder (watched with everything below it), or a file (watched alone)."""

    given: str  # as the user gave it: streamed paths are built on it
    folder: str  # the absolute folder watched
    name: str | None = None  # a file argument: its name in `folder`


class WatchedTree:
    """The arguments of one run and its walk rules."""

    def __init__(self, args: list[str], rules: WalkRules) -> None:
        self.rules = rules
        self.roots = [_root(arg) for arg in args]

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
        """Whether a change to this file matters (by its name and folder: no stat)."""
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

    def walks_into(self, folder: str) -> bool:
        """Whether a walk would enter this (absolute) folder."""
        located = self.locate(folder)
        return bool(located) and located[0].name is None and folder_taken(located[0].given, located[1],
                                                                           self.rules)

    def found(self, path: str) -> Found | None:
        """What the walk would say about the file at this absolute path now (one stat)."""
        located = self.locate(path)
        if located is None:
            return None
        root, relpath = located
        if root.name is not None:
            return found_argument(root.given)
        return found_in_tree(root.given, relpath, self.rules)

    def gone(self, path: str) -> Found | None:
        """A file that is no longer there, as the walk would have named it (no stat)."""
        if not self.wants(path):
            return None
        root, relpath = self.locate(path)
        if root.name is not None:
            return Found(root.given, "", relpath)
        return Found(os.path.join(root.given, relpath), root.given, relpath)

    def folder(self, path: str) -> tuple[str, str] | None:
        """(argument as given, relative folder) of an absolute folder a walk would enter."""
        if not self.walks_into(path):
            return None
        root, relfolder = self.locate(path)
        return root.given, relfolder

    def files_below(self, folder: str) -> Iterator[tuple[str, os.stat_result]]:
        """The files in a folder (absolute) and below, as the walk would take them."""
        where = self.folder(folder)
        if where is not None:
            yield from _taken(walk_below(*where, self.rules))

    def everything(self) -> Iterator[tuple[str, os.stat_result]]:
        """Every file under the arguments now (after events were lost)."""
        for root in self.roots:
            if root.name is None:
                yield from _taken(walk_below(root.given, "", self.rules))
            else:
                yield from _taken([[found_argument(root.given)]])


def _taken(folders) -> Iterator[tuple[str, os.stat_result]]:
    for files in folders:
        for found in files:
            if found.problem is None:
                yield os.path.abspath(found.path), found.stat


def _root(arg: str) -> WatchedRoot:
    if os.path.isdir(arg):
        return WatchedRoot(arg, os.path.abspath(arg))
    folder, name = os.path.split(os.path.abspath(arg))
    return WatchedRoot(arg, folder, name)
